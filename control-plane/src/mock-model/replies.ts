/**
 * Pure reply builders of the mock OpenAI-compatible model server: deterministic for a given request
 * and version label, so tests and the demo can assert exact text (and see what the DLP filter
 * redacted before the request reached the model: the reply echoes the last user message).
 */

/** The text the model "answers": `[<version>] echo: <last user text>`. */
export function replyText(version: string, prompt: string): string {
  return `[${version}] echo: ${prompt}`;
}

/** Splits `text` into deltas of at most `size` characters (code points never split). */
export function chunkText(text: string, size: number): string[] {
  const cps = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(''));
  return out.length === 0 ? [''] : out;
}

/** Whitespace-separated words: the mock's token count (stable, cheap, good enough for budgets). */
export function countTokens(text: string): number {
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

/** The text of one OpenAI message content (string, or array of `{type:'text', text}` parts). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (p !== null && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
      .join('');
  }
  return '';
}

/**
 * A deterministic unit vector of `dimensions` floats derived from `text` (FNV-1a seeded xorshift):
 * equal inputs give equal embeddings, different inputs almost surely differ.
 */
export function embeddingOf(text: string, dimensions: number): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let x = h || 1;
  const v: number[] = [];
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const f = x / 0xffffffff - 0.5;
    v.push(f);
    norm += f * f;
  }
  const n = Math.sqrt(norm) || 1;
  return v.map((f) => Math.round((f / n) * 1e6) / 1e6);
}
