/**
 * Every fenced block marked ```sh tested in README.md and docs/*.md runs, in order per file, with
 * bash (-e -u -o pipefail) in a temporary copy of the repository (node_modules linked, not copied),
 * and must exit 0 within its time limit. A block may set its own limit with `timeout=<seconds>`
 * after the marker (```sh tested timeout=120). Blocks of one file share the copy, so a later block
 * may use what an earlier one wrote.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SKIP = new Set(['node_modules', '.git', 'dist', '.meshward', 'coverage']);

export interface TestedBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly script: string;
  readonly timeoutSeconds: number;
}

/** The ```sh tested blocks of a Markdown text. */
export function testedBlocks(markdown: string, file: string): TestedBlock[] {
  const out: TestedBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(?:sh|bash|shell) tested(?:\s+timeout=(\d+))?\s*$/.exec(lines[i]!);
    if (m === null) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^```\s*$/.test(lines[j]!); j++) body.push(lines[j]!);
    if (j === lines.length) throw new Error(`${file}:${i + 1}: unterminated tested block`);
    out.push({ file, line: i + 1, script: body.join('\n'), timeoutSeconds: m[1] === undefined ? 60 : Number(m[1]) });
    i = j;
  }
  return out;
}

const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)].filter((f) => existsSync(join(ROOT, f)));
const byFile = files.map((f) => [f, testedBlocks(readFileSync(join(ROOT, f), 'utf8'), f)] as const).filter(([, b]) => b.length > 0);

const copies: string[] = [];
afterAll(() => copies.forEach((d) => rmSync(d, { recursive: true, force: true })));

function copyRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-docs-'));
  copies.push(dir);
  for (const e of readdirSync(ROOT)) {
    if (SKIP.has(e)) continue;
    cpSync(join(ROOT, e), join(dir, e), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Runs a block in its own process group, killed as a whole when it overruns its limit. */
function run(block: TestedBlock, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', block.script], {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MESHWARD_URL: '', MESHWARD_TOKEN: '', CI: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, block.timeoutSeconds * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr: timedOut ? `${stderr}\n(killed after ${block.timeoutSeconds}s)` : stderr });
    });
  });
}

describe('tested shell blocks in the docs', () => {
  it('the extractor finds blocks, their lines and limits', () => {
    const md = 'x\n```sh tested\necho a\necho b\n```\n```sh\nnot tested\n```\n```sh tested timeout=5\ntrue\n```\n';
    expect(testedBlocks(md, 'x.md')).toEqual([
      { file: 'x.md', line: 2, script: 'echo a\necho b', timeoutSeconds: 60 },
      { file: 'x.md', line: 9, script: 'true', timeoutSeconds: 5 },
    ]);
    expect(() => testedBlocks('```sh tested\nno end\n', 'y.md')).toThrow(/y\.md:1: unterminated/);
  });

  it('the docs this suite owns have tested blocks', () => {
    for (const f of ['docs/first-run.md', 'docs/cli.md', 'docs/istio.md']) expect(byFile.map(([name]) => name), f).toContain(f);
  });

  describe.each(byFile)('%s', (file, blocks) => {
    let cwd: string | undefined;
    it.each(blocks.map((b) => [`line ${b.line}`, b] as const))('block at %s exits 0', async (_l, block) => {
      cwd ??= copyRepo();
      const r = await run(block, cwd);
      expect(r.code, `${file}:${block.line} failed\n--- script\n${block.script}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`).toBe(0);
    }, 180_000);
  });
});
