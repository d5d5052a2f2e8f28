/**
 * Every built-in detector through the compiled harness .wasm: positives in several formats and
 * look-alikes that must not match, with boundaries and non-ASCII text around values.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAndLoadDetectHarness, type DetectHarness } from '../../fixtures/detect-harness/load-harness.js';
import { spans, withLuhn, makeIban, alnum } from './detect-test-helpers.js';

let h: DetectHarness;
beforeAll(async () => {
  h = await buildAndLoadDetectHarness('detectors.test');
  h.configure();
});

/** Each positive must be found exactly, as the only finding, in several contexts. */
function expectFound(id: string, value: string): void {
  for (const [pre, post] of [['', ''], ['x ', ' y'], ['«', '»'], ['日本語 ', '。'], ['(', ').'], ['"', '",']] as const) {
    expect(spans(h, pre + value + post), `${id} in ${JSON.stringify(pre + value + post)}`).toEqual([[id, value]]);
  }
}
function expectNone(text: string): void {
  expect(spans(h, text), JSON.stringify(text)).toEqual([]);
}

describe('email', () => {
  it.each([
    'bob@example.com', 'Bob.Smith+tag@mail.example.co.uk', 'a_b-c%d@sub-domain.example.org', 'X@EXAMPLE.IO',
    'user@xn--80ak6aa92e.xn--p1ai', '1234@numbers.net',
  ])('finds %s', (v) => expectFound('email', v));
  it.each([
    'user@localhost', '@mention here', 'a@b.c', 'icon@2x.png and logo@3x.svg', 'npm i pkg@1.2.3', 'bob@@example.com',
    'first..last@example.com', '.@example.com', 'bob.@example.com', 'bob@-example.com', 'bob@example..com',
  ])('ignores %s', (t) => expectNone(t));
  it('trims sentence punctuation and keeps the address', () => {
    expect(spans(h, 'Write to bob@example.com.')).toEqual([['email', 'bob@example.com']]);
    expect(spans(h, '<bob@example.com>; alice@example.net')).toEqual([['email', 'bob@example.com'], ['email', 'alice@example.net']]);
  });
});

describe('phone', () => {
  it.each([
    '(555) 123-4567', '555-123-4567', '555.123.4567', '555 123 4567', '(555)123-4567', '1-555-123-4567',
    '+1 (555) 123-4567', '+1 555 123 4567', '+14155552671', '+44 20 7946 0958', '+44 (0)20 7946 0958', '020 7946 0958',
    '07700 900123', '+49 30 12345678', '030 12345678', '030/12345678', '0171 1234567', '+33 1 23 45 67 89',
    '01 23 45 67 89', '06.12.34.56.78',
  ])('finds %s', (v) => expectFound('phone', v));
  it.each([
    'order 1234567890 shipped', 'on 2024-01-15 at 12:30:45', 'version 1.2.3 and v10.4.1', '01.02.2024 10:30',
    'ts=1700000000000', '123-456-7890', 'pi 3.14159265358979', '555-123-45678', '+0 123 456 789',
    'id 12345 67890', '555 123 4567 8901', 'call +123', '5551234567',
  ])('ignores %s', (t) => expectNone(t));
  it('stops at a different separator', () => {
    expect(spans(h, 'call 555-123-4567 2 times')).toEqual([['phone', '555-123-4567']]);
  });
});

describe('credit_card', () => {
  const cards = [
    '4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', '4222222222222', '5555555555554444',
    '5105 1051 0510 5100', withLuhn('222300312200322'), '378282246310005', '3782 822463 10005', '371449635398431',
    '6011111111111117', '6011 0009 9013 9424', '3530111333300000', '3566002020360505', '30569309025904',
    '3056 930902 5904', '38520000023237', withLuhn('620000000000000'), withLuhn('621234567890123456'),
    withLuhn('411111111111111111'),
  ];
  it.each(cards)('finds %s', (v) => expectFound('credit_card', v));
  it('accepts a 19-digit Visa in 4-4-4-4-3 groups', () => {
    const v = withLuhn('411111111111111111');
    const g = `${v.slice(0, 4)} ${v.slice(4, 8)} ${v.slice(8, 12)} ${v.slice(12, 16)} ${v.slice(16)}`;
    expectFound('credit_card', g);
  });
  it.each([
    '4111111111111112', 'order 1234567812345678', '0000000000000000', '0000 0000 0000 0000',
    `id ${'9'.repeat(7)}4111111111111111${'1'.repeat(7)}`, 'x4111111111111111', '4111111111111111x',
    '4111-1111 1111-1111', '4111 1111 1111 1111 2222', '1111 4111 1111 1111 1111', '12.4111111111111111',
    '4111111111111111.50', '411111111111111', '41111111111111111111', `${withLuhn('1234567890123')}`,
    '9111111111111111',
  ])('ignores %s', (t) => expectNone(t));
  it('keeps a card followed by an expiry date', () => {
    expect(spans(h, '4111 1111 1111 1111 12/29')).toEqual([['credit_card', '4111 1111 1111 1111']]);
  });
});

describe('us_ssn', () => {
  it.each(['123-45-6789', '123 45 6789', '078-05-1120', '899-99-9999'])('finds %s', (v) => expectFound('us_ssn', v));
  it.each([
    '000-12-3456', '666-12-3456', '900-12-3456', '999-12-3456', '123-00-4567', '123-45-0000', '123-45 6789',
    '123-45-67890', '1123-45-6789', '123-45-6789-1', 'x123-45-6789', '123456789', 'order 123456789',
  ])('ignores %s', (t) => expectNone(t));
  it('accepts 9 bare digits only next to a context keyword', () => {
    expect(spans(h, 'SSN: 123456789')).toEqual([['us_ssn', '123456789']]);
    expect(spans(h, 'social security number 123456789.')).toEqual([['us_ssn', '123456789']]);
    expect(spans(h, 'my ssn is 078051120')).toEqual([['us_ssn', '078051120']]);
    expect(spans(h, 'classnames 123456789')).toEqual([]);
    expect(spans(h, 'SSN: 000123456')).toEqual([]);
    h.configure({ ssnUnformatted: false });
    expect(spans(h, 'SSN: 123456789')).toEqual([]);
    h.configure();
  });
});

describe('iban', () => {
  it.each([
    'DE89370400440532013000', 'DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', 'GB82 WEST 1234 5698 7654 32',
    'FR1420041010050500013M02606', 'NL91ABNA0417164300', 'CH9300762011623852957', 'BE68539007547034',
    makeIban('NO', '86011117947'), makeIban('MT', 'MALT011000012345MTLCAST001S'), makeIban('IT', 'X0542811101000000123456'),
  ])('finds %s', (v) => expectFound('iban', v));
  it.each([
    'DE89370400440532013001', 'DE8937040044053201300', 'DE893704004405320130000', 'XX89370400440532013000',
    'de89370400440532013000', 'DE89 3704 0044 0532 0130 01', 'DE89 37040044 0532 0130 00', 'xDE89370400440532013000',
    'DE89370400440532013000x',
  ])('ignores %s', (t) => expectNone(t));
});

describe('ip_address', () => {
  it.each(['8.8.8.8', '10.0.0.1', '255.255.255.255', '0.0.0.0', '192.168.1.1'])('finds v4 %s', (v) => expectFound('ip_address', v));
  it.each([
    '2001:db8:85a3::8a2e:370:7334', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', '::1', 'fe80::1', '::ffff:192.0.2.1',
    '2001:db8::', 'FE80::0202:B3FF:FE1E:8329', '::ffff:10.0.0.1',
  ])('finds v6 %s', (v) => expectFound('ip_address', v));
  it('keeps ports, brackets and CIDR suffixes outside', () => {
    expect(spans(h, 'http://192.168.1.1:8080/x')).toEqual([['ip_address', '192.168.1.1']]);
    expect(spans(h, 'route 10.0.0.0/8 via 10.0.0.1')).toEqual([['ip_address', '10.0.0.0'], ['ip_address', '10.0.0.1']]);
    expect(spans(h, 'https://[2001:db8::1]:443/')).toEqual([['ip_address', '2001:db8::1']]);
    expect(spans(h, 'net 10.0.0.0/8.')).toEqual([['ip_address', '10.0.0.0']]);
    expect(spans(h, 'at 2001:db8:85a3::8a2e:370:7334. Next')).toEqual([['ip_address', '2001:db8:85a3::8a2e:370:7334']]);
  });
  it.each([
    '256.1.1.1', '1.2.3.4.5', 'v 1.2.3.4.5.6', 'Mozilla/5.0 Chrome/120.0.0.0 Safari/537.36', '01.2.3.4', '1.2.3', 'v1.2.3.4', '1.2.3.4a', 'at 12:30:45', 'std::vector',
    'Foo::Bar::baz', '00:1A:2B:3C:4D:5E', '1:2:3:4:5:6:7:8:9', '2001:db8::1::2', 'dead::beef', 'a:::1', '12345::1',
  ])('ignores %s', (t) => expectNone(t));
});

describe('aws_access_key', () => {
  it.each(['AKIAIOSFODNN7EXAMPLE', 'ASIAY34FZKBOKMUTVV7A', 'ABIA2BCDEFGHIJKLMNOP', 'ACCA2BCDEFGHIJKLMNOP', 'A3TX2BCDEFGHIJKLMNOP'])(
    'finds %s', (v) => expectFound('aws_access_key', v));
  it.each(['AKIAIOSFODNN7EXAMPL', 'AKIAIOSFODNN7EXAMPLEX', 'xAKIAIOSFODNN7EXAMPLE', 'AKIAiosfodnn7example', 'AKIDIOSFODNN7EXAMPLE'])(
    'ignores %s', (t) => expectNone(t));
  it('finds a secret access key after a context keyword', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    expect(spans(h, `aws_secret_access_key = ${secret}`)).toEqual([['aws_access_key', secret]]);
    expect(spans(h, `"SecretAccessKey": "${secret}"`)).toEqual([['aws_access_key', secret]]);
    expect(spans(h, `AWS_SECRET_ACCESS_KEY=${secret}\n`)).toEqual([['aws_access_key', secret]]);
    expect(h.scan(`aws secret access key: ${secret}`)[0]?.aux).toBe(1);
    expect(spans(h, `random ${secret}`)).toEqual([]);
    expect(spans(h, `aws_secret_access_key = ${secret}X`)).toEqual([]);
    h.configure({ awsSecret: false });
    expect(spans(h, `aws_secret_access_key = ${secret}`)).toEqual([]);
    h.configure();
  });
});

describe('github_token', () => {
  const body = alnum(36, 7);
  it.each(['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'].map((p) => p + body))('finds %s', (v) => expectFound('github_token', v));
  it('finds fine-grained tokens', () => expectFound('github_token', `github_pat_${alnum(22, 3)}_${alnum(59, 4)}`));
  it.each([`ghp_${alnum(35, 2)}`, `ghx_${body}`, `xghp_${body}`, `ghp_${body}_x`, `github_pat_${alnum(20, 5)}`])(
    'ignores %s', (t) => expectNone(t));
});

describe('slack_token', () => {
  it.each([
    'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', 'xoxp-123456789012-123456789012-123456789012-abcdef0123456789abcdef0123456789',
    'xoxa-2-123456789012-abcdefABCDEF', 'xoxr-123456789012-abcdefabcdef', 'xoxs-123456789012-abcdefabcdef',
    'xapp-1-A0123456789-1234567890123-abcdef0123456789', 'xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAxMg',
    'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
    'hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/abcdefghijklmnopqrstuvwx',
    'https://hooks.slack.com/workflows/T0ABCDEF1/A0ABCDEF2/123456789012345678/abcdefghijkl',
  ])('finds %s', (v) => expectFound('slack_token', v));
  it.each(['xoxb-', 'xoxo gossip girl', 'xoxb-abcdefghijklmnop', 'https://hooks.slack.com/services/T0/B0', 'xxoxb-123456789012-abc', 'https://slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'])(
    'ignores %s', (t) => expectNone(t));
});

describe('google_api_key', () => {
  it.each([`AIza${alnum(35, 11)}`, 'AIzaSyA-1234567890abcdefghijklmnopqrstu', 'AIzaSy_b-1234567890abcdefghijklmnopqrst'])(
    'finds %s', (v) => expectFound('google_api_key', v));
  it.each([`AIza${alnum(34, 12)}`, `AIza${alnum(36, 13)}`, `xAIza${alnum(35, 14)}`, 'AIza is a prefix'])('ignores %s', (t) => expectNone(t));
});

describe('stripe_key', () => {
  it.each([`sk_live_${alnum(24, 21)}`, `rk_live_${alnum(24, 22)}`, `sk_test_${alnum(99, 23)}`, `rk_test_${alnum(24, 24)}`])(
    'finds %s', (v) => expectFound('stripe_key', v));
  it.each([`pk_live_${alnum(24, 25)}`, 'sk_live_short', `task_live_${alnum(24, 26)}`, `sk_prod_${alnum(24, 27)}`])(
    'ignores %s', (t) => expectNone(t));
});

describe('openai_api_key', () => {
  it.each([
    `sk-proj-${alnum(74, 31)}T3BlbkFJ${alnum(74, 32)}`, `sk-proj-${alnum(48, 33)}`, `sk-svcacct-${alnum(60, 34)}`,
    `sk-admin-${alnum(60, 35)}`, `sk-${alnum(20, 36)}T3BlbkFJ${alnum(20, 37)}`, `sk-${alnum(48, 38)}`,
    `sk-proj-${alnum(30, 39)}_-${alnum(30, 40)}`,
  ])('finds %s', (v) => expectFound('openai_api_key', v));
  it.each([
    `sk-ant-api03-${alnum(80, 41)}`, 'sk-short', `desk-${alnum(48, 42)}`, `sk-${alnum(30, 43)}`, `sk-${alnum(47, 44)}`,
    `sk_live_${alnum(10, 45)}`, 'a risk-free sk-lookup',
  ])('ignores %s', (t) => expectNone(t));
});

describe('jwt', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
  it('finds a signed token', () => expectFound('jwt', jwt));
  it('finds an unsecured token with an empty signature', () => expectFound('jwt', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.'));
  it('finds a bearer header value', () => {
    expect(spans(h, `Authorization: Bearer ${jwt}\r\n`)).toEqual([['jwt', jwt]]);
  });
  it.each([
    'eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxIn0.c2ln', 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln', 'eyJhbGciOiJIUzI1NiJ9',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0', `x${jwt}`, `${jwt}.eyJ4IjoxfQ`, 'they eyJust',
  ])('ignores %s', (t) => expectNone(t));
});

describe('private_key', () => {
  const body = 'MIIEpAIBAAKCAQEA75\nabcdefghijklmnop\n';
  it.each(['RSA ', 'EC ', 'DSA ', 'OPENSSH ', 'ENCRYPTED ', ''])('finds a %sPRIVATE KEY block', (t) => {
    const v = `-----BEGIN ${t}PRIVATE KEY-----\n${body}-----END ${t}PRIVATE KEY-----`;
    expect(spans(h, `key:\n${v}\nthanks`)).toEqual([['private_key', v]]);
  });
  it('finds a PGP private key block', () => {
    const v = `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${body}-----END PGP PRIVATE KEY BLOCK-----`;
    expect(spans(h, v)).toEqual([['private_key', v]]);
  });
  it('runs an unterminated block to the end of the text, hiding what it contains', () => {
    const v = `-----BEGIN RSA PRIVATE KEY-----\n${body}and bob@example.com 4111111111111111`;
    expect(spans(h, `here: ${v}`)).toEqual([['private_key', v]]);
  });
  it('requires the END label to match', () => {
    const v = `-----BEGIN RSA PRIVATE KEY-----\n${body}-----END EC PRIVATE KEY----- tail`;
    expect(spans(h, v)).toEqual([['private_key', v]]);
  });
  it.each(['-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', '-----BEGIN FOO PRIVATE KEY-----', '----BEGIN RSA PRIVATE KEY-----'])(
    'ignores %s', (t) => expectNone(t));
});

describe('look-alikes that are never findings', () => {
  it.each([
    '550e8400-e29b-41d4-a716-446655440000', '3f786850e387550fdab836ed7e6dc881de23001b', '2024-01-15T10:30:45.123Z',
    'Mon, 15 Jan 2024 10:30:45 GMT', 'version 10.0.19045.3803', 'build 1.2.3-rc.4+sha.5114f85', 'order #100234578112',
    'tracking 1Z999AA10123456784', 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'price $1,234,567.89', 'lat 48.858844, long 2.294351', 'isbn 978-3-16-148410-0', 'x'.repeat(50), '0'.repeat(40),
    '1234 5678 9012 3456 7890 1234', 'call me maybe at noon', 'rgba(255, 255, 255, 0.5)', '#ff00ff',
  ])('%s', (t) => expectNone(t));
});

describe('buffer edges and multi-byte text', () => {
  it('finds values at the very start and end of the buffer', () => {
    expect(spans(h, 'bob@example.com')).toEqual([['email', 'bob@example.com']]);
    expect(spans(h, 'card 4111111111111111')).toEqual([['credit_card', '4111111111111111']]);
    expect(spans(h, '4111111111111111 card')).toEqual([['credit_card', '4111111111111111']]);
  });
  it('finds values across the 16-byte SIMD block seams', () => {
    const v = '4111111111111111';
    for (let pad = 0; pad < 40; pad++) {
      const text = `${'é'.repeat(pad)} ${v} `;
      expect(spans(h, text), `pad ${pad}`).toEqual([['credit_card', v]]);
    }
  });
  it('scans an empty buffer', () => {
    expect(h.scan('')).toEqual([]);
  });
  it('reports byte offsets', () => {
    const f = h.scan('ünï bob@example.com');
    expect(f).toEqual([{ detector: 'email', start: 6, end: 21, aux: 0 }]);
  });
  it('finds many values in one buffer', () => {
    const text = Array.from({ length: 2000 }, (_, i) => `user${i}@example.com 4111111111111111`).join('\n');
    const f = h.scan(text);
    expect(f.length).toBe(4000);
  });
});
