/**
 * Server-sent events reader for `text/event-stream` responses (OpenAI chat/completions/responses
 * streams and any JSON-per-event stream).
 *
 * It parses only complete events (terminated by a blank line; lines end in LF or CRLF) from a
 * buffer of not-yet-forwarded bytes, and appends each event's selected text to a {@link TextMap}:
 * delta strings (`choices[].delta.content`, Responses `delta`) join the previous delta without a
 * separator, so a value split across events is scanned whole. An incomplete trailing event is left
 * for the next chunk. `data: [DONE]` is noted. A `data:` payload that is not valid JSON (or an event
 * with several `data:` lines) is read as plain text when `lenient`, else counted as malformed.
 */
import { Shape } from "../config/enums";
import { ByteBuffer } from "./byte-buffer";
import { JsonReader } from "./json-reader";
import { TextMap } from "./text-map";

export class SseReader {
  readonly json: JsonReader = new JsonReader();
  /** `data: [DONE]` seen. */
  done: bool = false;
  /** Events whose data could not be read as JSON. */
  malformedEvents: i32 = 0;
  /** Complete events parsed so far. */
  events: i32 = 0;
  /**
   * Offset (in the parsed buffer) of the first event whose data was malformed and not read as
   * text (lenient off), or -1. The caller rebases or clears it.
   */
  firstMalformedAt: i32 = -1;

  reset(): void {
    this.done = false;
    this.malformedEvents = 0;
    this.events = 0;
    this.firstMalformedAt = -1;
  }

  /** Channels kept apart; higher channel numbers share the last one. */
  maxChannels: i32 = 8;

  /** Each event is read here first, then appended to its channel's map. */
  private scratch: TextMap = new TextMap();

  /**
   * Parses the complete events in `buf[from, buf.length)` into `maps`, one per stream channel
   * (`choices[].index` / Anthropic block `index`; channels from `maxChannels - 1` on share one),
   * so deltas of different choices never join. `maps` must hold at least channel 0; missing
   * channels are created. Every map's `rawBase` must be `buf.ptr`.
   * Returns the offset just past the last complete event (== from when none is complete).
   * With `final` (end of stream) a trailing event without its blank line is parsed too.
   */
  parse(buf: ByteBuffer, from: i32, maps: Array<TextMap>, shape: Shape, lenient: bool, final: bool): i32 {
    const map = unchecked(maps[0]);
    const base = buf.ptr;
    const end = buf.length;
    let eventStart = from;
    let lineStart = from;
    // The first data line of the current event, and how many data lines it has.
    let dataStart = -1;
    let dataEnd = -1;
    let dataLines = 0;
    let pos = from;
    while (true) {
      const nl = findNewline(base, pos, end);
      if (nl >= end) break;
      let lineEnd = nl;
      if (lineEnd > lineStart && load<u8>(base + <usize>(lineEnd - 1)) == 0x0d) lineEnd--;
      if (lineEnd == lineStart) {
        // Blank line: dispatch the event.
        if (dataLines > 0) this.dispatch(buf, maps, eventStart, dataStart, dataEnd, dataLines, shape, lenient);
        this.events++;
        eventStart = nl + 1;
        dataStart = -1;
        dataLines = 0;
      } else if (isDataLine(base, lineStart, lineEnd)) {
        let s = lineStart + 5;
        if (s < lineEnd && load<u8>(base + <usize>s) == 0x20) s++;
        if (dataLines == 0) {
          dataStart = s;
          dataEnd = lineEnd;
          map.currentGroup = eventStart;
        }
        dataLines++;
        if (dataLines > 1) {
          // Multi-line data: each line is read as text (the JSON is not contiguous in raw bytes).
          if (dataLines == 2) this.addRawText(map, dataStart, dataEnd);
          this.addRawText(map, s, lineEnd);
        }
      }
      pos = nl + 1;
      lineStart = pos;
    }
    if (final && eventStart < end) {
      // A last event without its terminating blank line.
      let lineEnd = end;
      if (lineEnd > lineStart && load<u8>(base + <usize>(lineEnd - 1)) == 0x0d) lineEnd--;
      if (lineEnd > lineStart && isDataLine(base, lineStart, lineEnd)) {
        let s = lineStart + 5;
        if (s < lineEnd && load<u8>(base + <usize>s) == 0x20) s++;
        if (dataLines == 0) {
          dataStart = s;
          dataEnd = lineEnd;
        }
        dataLines++;
        if (dataLines > 1) this.addRawText(map, s, lineEnd);
      }
      if (dataLines > 0) this.dispatch(buf, maps, eventStart, dataStart, dataEnd, dataLines, shape, lenient);
      this.events++;
      return end;
    }
    return eventStart;
  }

  private dispatch(
    buf: ByteBuffer, maps: Array<TextMap>, eventStart: i32, dataStart: i32, dataEnd: i32, dataLines: i32,
    shape: Shape, lenient: bool,
  ): void {
    if (dataLines > 1) return; // already added line by line
    const base = buf.ptr;
    const n = dataEnd - dataStart;
    if (n == 6 && isDone(base, dataStart)) {
      this.done = true;
      return;
    }
    if (n == 0) return;
    const scratch = this.scratch;
    scratch.reset(base);
    scratch.currentGroup = eventStart;
    const r = this.json.read(scratch, dataStart, dataEnd, shape);
    if (r.ok) {
      let slot = this.json.channel;
      if (slot >= this.maxChannels) slot = this.maxChannels - 1;
      // Channels get their map on first use (most streams only ever have channel 0).
      while (maps.length <= slot) {
        const m = new TextMap();
        m.rawBase = base;
        maps.push(m);
      }
      unchecked(maps[slot]).appendFrom(scratch);
      return;
    }
    this.malformedEvents++;
    const map = unchecked(maps[0]);
    map.currentGroup = eventStart;
    if (lenient) this.addRawText(map, dataStart, dataEnd);
    else if (this.firstMalformedAt < 0) this.firstMalformedAt = eventStart;
  }

  private addRawText(map: TextMap, s: i32, e: i32): void {
    if (e <= s) return;
    map.separate();
    const ts = map.text.length;
    map.text.pushBytes(map.rawBase + <usize>s, e - s);
    map.addSegment(s, e, ts, map.text.length, false);
    map.separate();
  }
}

function isDataLine(base: usize, s: i32, e: i32): bool {
  return e - s >= 5 && load<u8>(base + <usize>s) == 0x64 && load<u8>(base + <usize>(s + 1)) == 0x61 &&
    load<u8>(base + <usize>(s + 2)) == 0x74 && load<u8>(base + <usize>(s + 3)) == 0x61 &&
    load<u8>(base + <usize>(s + 4)) == 0x3a;
}

function isDone(base: usize, s: i32): bool {
  return load<u8>(base + <usize>s) == 0x5b && load<u8>(base + <usize>(s + 1)) == 0x44 &&
    load<u8>(base + <usize>(s + 2)) == 0x4f && load<u8>(base + <usize>(s + 3)) == 0x4e &&
    load<u8>(base + <usize>(s + 4)) == 0x45 && load<u8>(base + <usize>(s + 5)) == 0x5d;
}

/** Offset of the next LF at or after `i`, or `end`. */
export function findNewline(base: usize, i: i32, end: i32): i32 {
  const nl = i8x16.splat(0x0a);
  while (i + 16 <= end) {
    const bits = i8x16.bitmask(i8x16.eq(v128.load(base + <usize>i), nl));
    if (bits != 0) return i + ctz(bits);
    i += 16;
  }
  while (i < end) {
    if (load<u8>(base + <usize>i) == 0x0a) return i;
    i++;
  }
  return end;
}
