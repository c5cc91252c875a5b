/** snake_case → lowerCamelCase, the two spellings proto3 JSON accepts for every field name. */
export function toCamelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** lowerCamelCase → snake_case, for Google-style error paths such as 'setup.generation_config'. */
export function toSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
