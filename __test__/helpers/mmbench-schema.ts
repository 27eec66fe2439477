// A small JSON Schema validator, enough for benchmark/mmbench.schema.json (no dependency):
// type (incl. "integer" and lists of types), const, enum, required, properties,
// additionalProperties (boolean or schema), items, minItems, minimum, oneOf, $ref to #/$defs/...
// Annotations ($schema, title, description, format, ...) are ignored. Returns the errors found.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type Schema = { [k: string]: any } | boolean

function typeOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

function hasType(v: unknown, t: string): boolean {
  if (t === 'integer') return typeof v === 'number' && Number.isInteger(v)
  if (t === 'number') return typeof v === 'number' && Number.isFinite(v)
  return typeOf(v) === t
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

export function validate(schema: Schema, value: unknown, root: Schema = schema, at = '$'): string[] {
  if (schema === true) return []
  if (schema === false) return [`${at}: not allowed`]
  const s = schema as { [k: string]: any }
  const errors: string[] = []
  if (typeof s.$ref === 'string') {
    const m = /^#\/\$defs\/(.+)$/.exec(s.$ref)
    const target = m && (root as { [k: string]: any }).$defs?.[m[1]!]
    if (!target) return [`${at}: unresolvable $ref ${s.$ref}`]
    errors.push(...validate(target, value, root, at))
  }
  if (s.type !== undefined) {
    const types: string[] = Array.isArray(s.type) ? s.type : [s.type]
    if (!types.some((t) => hasType(value, t))) return [...errors, `${at}: expected ${types.join(' or ')}, got ${typeOf(value)}`]
  }
  if ('const' in s && !equal(s.const, value)) errors.push(`${at}: expected ${JSON.stringify(s.const)}`)
  if (Array.isArray(s.enum) && !s.enum.some((e: Json) => equal(e, value))) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`)
  if (typeof s.minimum === 'number' && typeof value === 'number' && value < s.minimum) errors.push(`${at}: ${value} < ${s.minimum}`)
  if (Array.isArray(s.oneOf)) {
    const ok = s.oneOf.filter((sub: Schema) => validate(sub, value, root, at).length === 0).length
    if (ok !== 1) errors.push(`${at}: matches ${ok} of the oneOf schemas, not exactly 1`)
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) errors.push(`${at}: fewer than ${s.minItems} items`)
    if (s.items !== undefined) value.forEach((v, i) => errors.push(...validate(s.items, v, root, `${at}[${i}]`)))
  } else if (value !== null && typeof value === 'object') {
    const obj = value as { [k: string]: unknown }
    for (const k of s.required ?? []) if (!(k in obj)) errors.push(`${at}: missing required '${k}'`)
    const props: { [k: string]: Schema } = s.properties ?? {}
    for (const [k, v] of Object.entries(obj)) {
      if (k in props) errors.push(...validate(props[k]!, v, root, `${at}.${k}`))
      else if (s.additionalProperties === false) errors.push(`${at}: unexpected property '${k}'`)
      else if (typeof s.additionalProperties === 'object') errors.push(...validate(s.additionalProperties, v, root, `${at}.${k}`))
    }
  }
  return errors
}
