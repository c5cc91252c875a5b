/** `{{input}}`, `{{response}}` and `{{response.path.to.value}}` in scripted reply text. */
export interface TemplateValues {
  readonly input: string;
  readonly response: Record<string, unknown> | undefined;
}

export function renderTemplate(text: string, values: TemplateValues): string {
  return text.replace(/\{\{\s*(input|response)((?:\.[\w-]+)*)\s*\}\}/g, (_, root: string, path: string) => {
    if (root === 'input') return values.input;
    let v: unknown = values.response;
    for (const key of path.split('.').filter(Boolean)) {
      v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
    }
    if (v === undefined) return '';
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}
