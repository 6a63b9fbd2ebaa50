"""Process-wide housekeeping: the memory-pressure monitor and its evictors."""
