// Building HTML and SVG text safely: every attribute value and text node is escaped here, so names that
// come from an inventory, a journal or a cluster (hostile or not) can never become markup or script.

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type AttributeValue = string | number | undefined | false;

/** Numbers are rounded to 0.1 px: smaller files, stable output for tests. */
function attributeText(value: string | number): string {
  return typeof value === 'number' ? String(Math.round(value * 10) / 10) : escapeXml(value);
}

/** `<name a="1">children</name>`; children are already-safe markup (from `el`, `text`). Undefined/false attributes are left out. */
export function el(name: string, attributes: Record<string, AttributeValue> = {}, ...children: (string | undefined | false)[]): string {
  const attrs = Object.entries(attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== false)
    .map(([key, value]) => ` ${key}="${attributeText(value)}"`)
    .join('');
  const body = children.filter((c): c is string => typeof c === 'string').join('');
  return body === '' && isVoid(name) ? `<${name}${attrs}/>` : `<${name}${attrs}>${body}</${name}>`;
}

const SVG_VOID = new Set(['rect', 'line', 'circle', 'path', 'polyline', 'use', 'stop']);
const HTML_VOID = new Set(['meta', 'br', 'hr', 'col']);

function isVoid(name: string): boolean {
  return SVG_VOID.has(name) || HTML_VOID.has(name);
}

/** A text node. */
export function text(value: string | number): string {
  return escapeXml(String(value));
}

/** Short labels that fit a width: characters are ~0.6 em wide in the report's sans-serif at `fontSize`. */
export function fitLabel(label: string, widthPx: number, fontSize = 11): string | undefined {
  const perChar = fontSize * 0.6;
  const max = Math.floor((widthPx - 6) / perChar);
  if (max < 3) return undefined;
  return label.length <= max ? label : `${label.slice(0, max - 1)}…`;
}
