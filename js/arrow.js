// The drawn points arrive as one Arrow IPC stream in a binary buffer of a custom message.
import { tableFromIPC } from 'apache-arrow'

export function decodePoints (buffer) {
  const bytes = buffer instanceof Uint8Array
    ? buffer
    : new Uint8Array(buffer.buffer || buffer, buffer.byteOffset || 0, buffer.byteLength)
  const table = tableFromIPC(bytes)
  const fields = {}
  for (const field of table.schema.fields) {
    const column = table.getChild(field.name)
    const values = column.toArray()
    fields[field.name] = typeof values[0] === 'bigint' ? Array.from(values, Number) : values
  }
  return { count: table.numRows, fields }
}
