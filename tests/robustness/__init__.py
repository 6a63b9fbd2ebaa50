"""Black-box fault suite: each named case runs in its own subprocess with a time bound."""
