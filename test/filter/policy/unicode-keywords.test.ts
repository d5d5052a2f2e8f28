// Case-insensitive custom keywords beyond ASCII, through the built meshward.wasm: "MÜLLER" matches
// the keyword "müller" in JSON requests (also written with \u escapes) and in streamed responses
// split anywhere; long keywords ("конфиденциально", "Οδυσσεύς") match in every case mix; case_sensitive:
// true stays exact; a keyword set over the matcher's term budget is refused whole; the hash
// redaction style folds the same letters, so "MÜLLER" and "müller" give one token.
import { describe, expect, it } from 'vitest';
import { EmulatorError } from '../../host/index.js';
import { SSE_DONE, SSE_HEADERS, auditLines, chat, chatRequest, meshward, sseDelta, streamedText } from '../helpers.js';

const CUSTOM = [
  { id: 'surname', keywords: ['müller', 'Ōtsuka'], action: 'redact' },
  { id: 'codename', keywords: ['ПРОЕКТ', 'οδός', 'Été'], action: 'redact' },
];

const content = (body: string): string => (JSON.parse(body) as { messages: Array<{ content: string }> }).messages[1]!.content;

async function startError(config: unknown): Promise<EmulatorError> {
  try {
    await meshward(JSON.stringify(config));
  } catch (e) {
    expect(e).toBeInstanceOf(EmulatorError);
    return e as EmulatorError;
  }
  throw new Error('plugin start unexpectedly succeeded');
}

describe('non-ASCII case-insensitive custom keywords', () => {
  it('redacts every case form of Latin, Greek and Cyrillic keywords in a JSON request', async () => {
    const envoy = await meshward({ custom_detectors: CUSTOM });
    const text = 'Herr MÜLLER, Frau Müller, ŌTSUKA; проект / Проект; ΟΔΌΣ, οδόσ; ÉTÉ été';
    const out = content(chat(envoy, chatRequest(text)).result.upstream.bodyText);
    expect(out).toBe(
      'Herr [SURNAME], Frau [SURNAME], [SURNAME]; [CODENAME] / [CODENAME]; [CODENAME], [CODENAME]; [CODENAME] [CODENAME]',
    );
    expect(auditLines(envoy)[0]!.findings).toEqual([
      { detector: 'surname', count: 3, action: 'redact' },
      { detector: 'codename', count: 6, action: 'redact' },
    ]);
  });

  it('leaves other letters and word-internal occurrences alone', async () => {
    const envoy = await meshward({ custom_detectors: CUSTOM });
    const req = chatRequest('Muller MULLER Mueller MÜLLERS xmüller ПРОЕКТЫ ΟΔΟΣ ETE');
    expect(chat(envoy, req).result.upstream.bodyText).toBe(req);
  });

  it('matches values written with \\u escapes (decoded before scanning)', async () => {
    const envoy = await meshward({ custom_detectors: CUSTOM });
    const body =
      '{"model":"gpt-4o","messages":[{"role":"system","content":"x"},' +
      '{"role":"user","content":"Herr M\\u00dcLLER und \\u041f\\u0420\\u041e\\u0415\\u041a\\u0422!"}]}';
    const out = chat(envoy, body).result.upstream.bodyText;
    expect(content(out)).toBe('Herr [SURNAME] und [CODENAME]!');
  });

  it('matches in streamed responses split across events and at every byte of the network chunks', async () => {
    const events = [sseDelta('Gruß an Herrn MÜ'), sseDelta('LLER vom ПРО'), sseDelta('ЕКТ und οδό'), sseDelta('ς.'), SSE_DONE];
    const body = events.join('');
    for (const chunkSize of [1, 2, 3, 7, 64, 4096]) {
      const envoy = await meshward({ custom_detectors: CUSTOM });
      const { result } = chat(envoy, chatRequest('hi'), { headers: SSE_HEADERS, body, chunkSize });
      expect(streamedText(result.downstream.bodyText), `chunk size ${chunkSize}`).toBe('Gruß an Herrn [SURNAME] vom [CODENAME] und [CODENAME].');
      expect(result.downstream.bodyText).not.toMatch(/MÜ|LLER|ПРО|ЕКТ|οδό/);
    }
  });

  it('case_sensitive: true stays exact', async () => {
    const envoy = await meshward({ custom_detectors: [{ id: 'surname', keywords: ['müller', 'ПРОЕКТ'], case_sensitive: true, action: 'redact' }] });
    const out = content(chat(envoy, chatRequest('MÜLLER Müller müller проект Проект ПРОЕКТ')).result.upstream.bodyText);
    expect(out).toBe('MÜLLER Müller [SURNAME] проект Проект [SURNAME]');
  });

  it('does not fold dotless ı, İ, long ſ or ß into ASCII', async () => {
    const envoy = await meshward({ custom_detectors: [{ id: 'word', keywords: ['ılık', 'istanbul', 'straße'], action: 'redact' }] });
    const req = chatRequest('ILIK ilik İstanbul STRASSE strasse');
    expect(chat(envoy, req).result.upstream.bodyText).toBe(req);
    expect(content(chat(envoy, chatRequest('ılık ISTANBUL STRAßE')).result.upstream.bodyText)).toBe('[WORD] [WORD] [WORD]');
  });
});

describe('long keywords', () => {
  const LONG = [
    { id: 'secret', keywords: ['конфиденциально', 'сверхсекретный'], action: 'redact' },
    { id: 'hero', keywords: ['Οδυσσεύς', 'Αλληλεγγύη'], action: 'redact' },
    { id: 'place', keywords: ['ŁÓDŹSKIEGOWÓJTÓW', 'äöüéèàìòùâêîôû'], action: 'redact' },
  ];

  it('match in every case mix in a JSON request, written plainly and with \\u escapes', async () => {
    const envoy = await meshward({ custom_detectors: LONG });
    const text =
      'КОНФИДЕНЦИАЛЬНО кОнФиДеНцИаЛьНо Сверхсекретный ΟΔΥΣΣΕΎΣ οδυσσεύς ΑλΛηΛεΓγΎη łódźskiegowójtów ÄÖÜÉÈÀÌÒÙÂÊÎÔÛ';
    expect(content(chat(envoy, chatRequest(text)).result.upstream.bodyText)).toBe(
      '[SECRET] [SECRET] [SECRET] [HERO] [HERO] [HERO] [PLACE] [PLACE]',
    );
    const escaped = [...'КОНФИДЕНЦИАЛЬНО ΟΔΥΣΣΕΎΣ']
      .map((c) => (c.charCodeAt(0) < 0x80 ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
      .join('');
    const body = `{"model":"gpt-4o","messages":[{"role":"system","content":"x"},{"role":"user","content":"${escaped}!"}]}`;
    expect(content(chat(envoy, body).result.upstream.bodyText)).toBe('[SECRET] [HERO]!');
  });

  it('leave a word whose tail differs in one letter alone', async () => {
    const envoy = await meshward({ custom_detectors: LONG });
    const req = chatRequest('КОНФИДЕНЦИАЛЬНЫ конфиденциальна ΟΔΥΣΣΕΥΣ ŁÓDŹSKIEGOWÓJTÓV КОНФИДЕНЦИАЛЬНОСТЬ');
    expect(chat(envoy, req).result.upstream.bodyText).toBe(req);
  });

  it('match in streamed responses split at every character across events and at every byte of the network chunks', async () => {
    const text = 'Это КОНФИДЕНЦИАЛЬНО, ὁ ΟΔΥΣΣΕΎΣ.';
    const chars = [...text];
    for (let cut = 1; cut < chars.length; cut++) {
      const events = [sseDelta(chars.slice(0, cut).join('')), sseDelta(chars.slice(cut).join('')), SSE_DONE];
      const envoy = await meshward({ custom_detectors: LONG });
      const { result } = chat(envoy, chatRequest('hi'), { headers: SSE_HEADERS, body: events.join(''), chunkSize: cut % 2 === 0 ? 1 : 5 });
      expect(streamedText(result.downstream.bodyText), `split at character ${cut}`).toBe('Это [SECRET], ὁ [HERO].');
    }
  });

  it('case_sensitive: true stays exact', async () => {
    const envoy = await meshward({ custom_detectors: [{ id: 'secret', keywords: ['конфиденциально'], case_sensitive: true, action: 'redact' }] });
    const out = content(chat(envoy, chatRequest('КОНФИДЕНЦИАЛЬНО Конфиденциально конфиденциально')).result.upstream.bodyText);
    expect(out).toBe('КОНФИДЕНЦИАЛЬНО Конфиденциально [SECRET]');
  });

  it('hash redaction gives every case form of a long keyword one token', async () => {
    const envoy = await meshward({
      redaction: { style: 'hash', hash_key: '0123456789abcdef-unicode' },
      custom_detectors: [{ id: 'secret', keywords: ['конфиденциально'], action: 'redact' }],
    });
    const tokens = content(chat(envoy, chatRequest('КОНФИДЕНЦИАЛЬНО кОнФиДеНцИаЛьНо конфиденциально')).result.upstream.bodyText).split(' ');
    expect(tokens).toHaveLength(3);
    expect(tokens[0]).toMatch(/^\[SECRET:[0-9a-f]{12}\]$/);
    expect(new Set(tokens).size).toBe(1);
  });
});

describe('bounds on case variants', () => {
  it('accepts keywords with many letters that differ by case (no 64-variant limit) and matches them across cases', async () => {
    const envoy = await meshward({
      custom_detectors: [
        { id: 'names', keywords: ['müller', 'ÄÖÜÉÈÀÌ', 'ΣΙΣΣΣ'], action: 'redact' },
        { id: 'exact', keywords: ['ÖÖÖÖÖÖÖÖ'], case_sensitive: true, action: 'redact' },
      ],
    });
    expect(content(chat(envoy, chatRequest('äöüéèàì ÄöÜéÈàÌ σισσς ΣΙΣΣΣ öööööööö ÖÖÖÖÖÖÖÖ')).result.upstream.bodyText)).toBe(
      '[NAMES] [NAMES] [NAMES] [NAMES] öööööööö [EXACT]',
    );
  });

  it('refuses a keyword set whose case variants exceed the term budget; the previous configuration keeps serving', async () => {
    const good = { custom_detectors: [{ id: 'surname', keywords: ['müller'], action: 'block' }] };
    const envoy = await meshward(good);
    // σ and ς/Σ in the first 4 bytes: 3 x 3 = 9 terms per keyword
    const many = Array.from({ length: 7300 }, (_, i) => `σσ${i}`);
    const r = envoy.reconfigure(JSON.stringify({ custom_detectors: [{ id: 'names', keywords: many }] }));
    expect(r.accepted).toBe(false);
    const log = envoy.logsAtLeast('error').join('\n');
    expect(log).toContain(
      'meshward: invalid plugin configuration: $.custom_detectors: the keywords need 65700 matcher terms (a case-insensitive ' +
        'keyword counts once per case variant of the non-ASCII letters in its first 4 bytes, at most 9), at most',
    );
    expect(log).toMatch(/at most \d+ are available — use fewer keywords or set case_sensitive: true/);
    expect(chat(envoy, chatRequest('Herr MÜLLER')).result.localReply?.status).toBe(403);
    // long keywords cost no more terms than their first 4 bytes: 7300 keywords of 20 Cyrillic letters fit
    const long = Array.from({ length: 7300 }, (_, i) => `жж${'конфиденциально'}${i}`);
    expect(envoy.reconfigure(JSON.stringify({ custom_detectors: [{ id: 'names', keywords: long }] })).accepted).toBe(true);
    // the same list as case-sensitive needs one term per keyword
    expect(envoy.reconfigure(JSON.stringify({ custom_detectors: [{ id: 'names', keywords: many, case_sensitive: true }] })).accepted).toBe(true);
  });
});

describe('hash redaction folds the same letters', () => {
  const config = {
    redaction: { style: 'hash', hash_key: '0123456789abcdef-unicode' },
    custom_detectors: [{ id: 'surname', keywords: ['müller', 'mueller', 'οδός', 'проект'], action: 'redact' }],
  };
  it('gives MÜLLER, Müller and müller one token, and other spellings another', async () => {
    const envoy = await meshward(config);
    const out = content(chat(envoy, chatRequest('MÜLLER Müller müller mueller ΟΔΌΣ οδός Οδόσ ПРОЕКТ проект')).result.upstream.bodyText);
    const tokens = out.split(' ');
    expect(tokens).toHaveLength(9);
    for (const t of tokens) expect(t).toMatch(/^\[SURNAME:[0-9a-f]{12}\]$/);
    expect(new Set(tokens.slice(0, 3)).size).toBe(1);
    expect(tokens[3]).not.toBe(tokens[0]);
    expect(new Set(tokens.slice(4, 7)).size).toBe(1); // Σ, σ and ς fold to σ
    expect(tokens[7]).toBe(tokens[8]);
    expect(new Set([tokens[0], tokens[4], tokens[7]]).size).toBe(3);
  });
  it('hashes the lower-case form: a keyword matched as MÜLLER hashes like one configured case-sensitively as müller', async () => {
    const a = await meshward(config);
    const b = await meshward({ ...config, custom_detectors: [{ id: 'surname', keywords: ['müller'], case_sensitive: true, action: 'redact' }] });
    const ta = content(chat(a, chatRequest('MÜLLER')).result.upstream.bodyText);
    const tb = content(chat(b, chatRequest('müller')).result.upstream.bodyText);
    expect(ta).toBe(tb);
  });
});
