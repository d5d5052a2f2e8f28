import { isAlnum, at, ascii, matchAt } from "./char-class";

export const STRIPE_KEY_MAX_LEN: i32 = 255;
const LIVE = ascii("live_");
const TEST = ascii("test_");

/**
 * Stripe secret or restricted key whose first '_' is at `u`: "sk_" or "rk_", then "live_" or
 * "test_", then at least 16 alphanumerics (Stripe issues 24 and 99), bounded by a byte outside
 * [A-Za-z0-9_] on both sides. Publishable keys (pk_) are public by design and not matched.
 * Returns the end offset and sets `stripeStart`, or -1.
 */
export function matchStripeKey(p: usize, len: i32, u: i32): i32 {
  if (u < 2 || at(p, len, u - 1) != 0x6b) return -1;
  const c = at(p, len, u - 2);
  if (c != 0x73 && c != 0x72) return -1;
  const s = u - 2;
  if (s > 0 && (isAlnum(at(p, len, s - 1)) || at(p, len, s - 1) == 0x5f)) return -1;
  if (!matchAt(p, len, u + 1, LIVE, 5) && !matchAt(p, len, u + 1, TEST, 5)) return -1;
  const bs = u + 6;
  let e = bs;
  while (e < len && e - s <= STRIPE_KEY_MAX_LEN && isAlnum(load<u8>(p + <usize>e))) e++;
  if (e - bs < 16 || e - s > STRIPE_KEY_MAX_LEN) return -1;
  if (e < len && at(p, len, e) == 0x5f) return -1;
  stripeStart = s;
  return e;
}
export let stripeStart: i32 = 0;
