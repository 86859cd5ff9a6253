/**
 * A streaming JSON validator (RFC 8259, UTF-8 without a BOM): bytes in, chunk by chunk, a
 * verdict out, and no value built. `JSON.parse` on a 16 MiB body builds a tree many times its
 * size and blocks the event loop while doing it; this scanner keeps one byte per open
 * container (bounded by `maxDepth`) and runs as each chunk of the body arrives, so no single
 * step is longer than one chunk. Accepts exactly what strict UTF-8 decoding followed by
 * `JSON.parse` accepts, up to the depth limit (test/property/http/json-scan.test.ts checks that).
 */

const enum Mode {
  Value, ValueOrClose, KeyOrClose, Key, Colon, AfterValue, Done,
  String, Escape, Unicode, Utf8, Number, Literal,
}

// Number sub-states; the "final" ones may end the number.
const enum Num { Minus, Zero, Int, Dot, Frac, Exp, ExpSign, ExpDigits }

const ARRAY = 0;
const OBJECT = 1;
const LITERALS: Readonly<Record<number, Uint8Array>> = {
  0x74: Buffer.from('true'),
  0x66: Buffer.from('false'),
  0x6e: Buffer.from('null'),
};

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function isHex(b: number): boolean {
  return isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

function numberMayEnd(state: Num): boolean {
  return state === Num.Zero || state === Num.Int || state === Num.Frac || state === Num.ExpDigits;
}

export class JsonScanner {
  private mode = Mode.Value;
  private readonly stack: Uint8Array;
  private depth = 0;
  private offset = 0;
  private error: string | null = null;
  // String state.
  private inKey = false;
  private pending = 0; // hex digits (Unicode) or continuation bytes (Utf8) still expected
  private lo = 0x80;
  private hi = 0xbf;
  // Number and literal state.
  private num = Num.Int;
  private literal: Uint8Array = LITERALS[0x6e]!;
  private literalIndex = 0;

  constructor(private readonly maxDepth: number) {
    this.stack = new Uint8Array(maxDepth);
  }

  /** Feeds the next bytes; returns the first error found so far (sticky), or null. */
  write(chunk: Uint8Array): string | null {
    if (this.error !== null) return this.error;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      // Fast paths for the long runs (string bodies, digits, whitespace); step() does the rest.
      const mode = this.mode;
      if (mode === Mode.String) {
        let b = chunk[i]!;
        while (b >= 0x20 && b < 0x80 && b !== 0x22 && b !== 0x5c) {
          if (++i === n) break;
          b = chunk[i]!;
        }
        if (i === n) break;
      } else if (mode === Mode.Number && (this.num === Num.Int || this.num === Num.Frac || this.num === Num.ExpDigits)) {
        let b = chunk[i]!;
        while (b >= 0x30 && b <= 0x39) {
          if (++i === n) break;
          b = chunk[i]!;
        }
        if (i === n) break;
      } else if (mode <= Mode.Done) {
        let b = chunk[i]!;
        while (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
          if (++i === n) break;
          b = chunk[i]!;
        }
        if (i === n) break;
      }
      if (!this.step(chunk[i]!)) {
        this.error = `${this.error ?? 'invalid JSON'} at byte ${this.offset + i}`;
        return this.error;
      }
      i++;
    }
    this.offset += n;
    return null;
  }

  /** The verdict once every byte was written: null for one complete JSON document, else why not. */
  end(): string | null {
    if (this.error !== null) return this.error;
    if (this.mode === Mode.Done) return null;
    if (this.mode === Mode.Number && this.depth === 0 && numberMayEnd(this.num)) return null;
    return this.offset === 0 ? 'the body is empty' : `the document is incomplete at byte ${this.offset}`;
  }

  /** One byte; false on an error (this.error set). */
  private step(b: number): boolean {
    switch (this.mode) {
      case Mode.String:
        if (b === 0x22) this.endValueOrKey();
        else if (b === 0x5c) this.mode = Mode.Escape;
        else if (b < 0x20) return this.fail('control character in a string');
        else if (b >= 0x80) return this.utf8Lead(b);
        return true;
      case Mode.Utf8:
        if (b < this.lo || b > this.hi) return this.fail('invalid UTF-8');
        this.lo = 0x80;
        this.hi = 0xbf;
        if (--this.pending === 0) this.mode = Mode.String;
        return true;
      case Mode.Escape:
        if (b === 0x75) {
          this.mode = Mode.Unicode;
          this.pending = 4;
        } else if (b === 0x22 || b === 0x5c || b === 0x2f || b === 0x62 || b === 0x66 || b === 0x6e || b === 0x72 || b === 0x74) {
          this.mode = Mode.String;
        } else {
          return this.fail('invalid escape in a string');
        }
        return true;
      case Mode.Unicode:
        if (!isHex(b)) return this.fail('invalid \\u escape');
        if (--this.pending === 0) this.mode = Mode.String;
        return true;
      case Mode.Number:
        return this.numberByte(b);
      case Mode.Literal:
        if (b !== this.literal[this.literalIndex]) return this.fail('invalid literal');
        if (++this.literalIndex === this.literal.length) this.endValue();
        return true;
      default:
        return this.structural(b);
    }
  }

  private structural(b: number): boolean {
    if (isWhitespace(b)) return true;
    switch (this.mode) {
      case Mode.ValueOrClose:
        if (b === 0x5d) return this.close(ARRAY);
        return this.value(b);
      case Mode.Value:
        return this.value(b);
      case Mode.KeyOrClose:
        if (b === 0x7d) return this.close(OBJECT);
        return this.key(b);
      case Mode.Key:
        return this.key(b);
      case Mode.Colon:
        if (b !== 0x3a) return this.fail('expected ":"');
        this.mode = Mode.Value;
        return true;
      case Mode.AfterValue: {
        const top = this.stack[this.depth - 1];
        if (b === 0x2c) {
          this.mode = top === OBJECT ? Mode.Key : Mode.Value;
          return true;
        }
        if (b === 0x5d) return this.close(ARRAY);
        if (b === 0x7d) return this.close(OBJECT);
        return this.fail('expected "," or the end of the container');
      }
      default:
        return this.fail('unexpected data after the document');
    }
  }

  private value(b: number): boolean {
    if (b === 0x7b || b === 0x5b) {
      if (this.depth === this.maxDepth) return this.fail(`nesting deeper than ${this.maxDepth}`);
      this.stack[this.depth++] = b === 0x7b ? OBJECT : ARRAY;
      this.mode = b === 0x7b ? Mode.KeyOrClose : Mode.ValueOrClose;
      return true;
    }
    if (b === 0x22) {
      this.mode = Mode.String;
      this.inKey = false;
      return true;
    }
    if (b === 0x2d || isDigit(b)) {
      this.mode = Mode.Number;
      this.num = b === 0x2d ? Num.Minus : b === 0x30 ? Num.Zero : Num.Int;
      return true;
    }
    const literal = LITERALS[b];
    if (literal === undefined) return this.fail('expected a value');
    this.mode = Mode.Literal;
    this.literal = literal;
    this.literalIndex = 1;
    return true;
  }

  private key(b: number): boolean {
    if (b !== 0x22) return this.fail('expected a string key');
    this.mode = Mode.String;
    this.inKey = true;
    return true;
  }

  private close(kind: number): boolean {
    if (this.depth === 0 || this.stack[this.depth - 1] !== kind) return this.fail('mismatched bracket');
    this.depth--;
    this.endValue();
    return true;
  }

  private endValueOrKey(): void {
    if (this.inKey) this.mode = Mode.Colon;
    else this.endValue();
  }

  private endValue(): void {
    this.mode = this.depth === 0 ? Mode.Done : Mode.AfterValue;
  }

  private utf8Lead(b: number): boolean {
    // Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
    if (b >= 0xc2 && b <= 0xdf) this.pending = 1;
    else if (b >= 0xe0 && b <= 0xef) this.pending = 2;
    else if (b >= 0xf0 && b <= 0xf4) this.pending = 3;
    else return this.fail('invalid UTF-8');
    this.lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    this.hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    this.mode = Mode.Utf8;
    return true;
  }

  private numberByte(b: number): boolean {
    const digit = isDigit(b);
    switch (this.num) {
      case Num.Minus:
        if (!digit) return this.fail('invalid number');
        this.num = b === 0x30 ? Num.Zero : Num.Int;
        return true;
      case Num.Zero:
      case Num.Int:
        if (digit && this.num === Num.Int) return true;
        if (b === 0x2e) this.num = Num.Dot;
        else if (b === 0x65 || b === 0x45) this.num = Num.Exp;
        else if (digit) return this.fail('invalid number (leading zero)');
        else return this.endNumber(b);
        return true;
      case Num.Dot:
        if (!digit) return this.fail('invalid number');
        this.num = Num.Frac;
        return true;
      case Num.Frac:
        if (digit) return true;
        if (b === 0x65 || b === 0x45) {
          this.num = Num.Exp;
          return true;
        }
        return this.endNumber(b);
      case Num.Exp:
        if (b === 0x2b || b === 0x2d) this.num = Num.ExpSign;
        else if (digit) this.num = Num.ExpDigits;
        else return this.fail('invalid number');
        return true;
      case Num.ExpSign:
        if (!digit) return this.fail('invalid number');
        this.num = Num.ExpDigits;
        return true;
      case Num.ExpDigits:
        return digit ? true : this.endNumber(b);
    }
  }

  /** The number ended before this byte, which is then read as what follows the number. */
  private endNumber(b: number): boolean {
    this.endValue();
    return this.structural(b);
  }

  private fail(reason: string): boolean {
    this.error = reason;
    return false;
  }
}

/** The whole-buffer form: null when `bytes` is one JSON document within `maxDepth`, else why not. */
export function jsonDocumentError(bytes: Uint8Array, maxDepth: number): string | null {
  const scanner = new JsonScanner(maxDepth);
  return scanner.write(bytes) ?? scanner.end();
}
