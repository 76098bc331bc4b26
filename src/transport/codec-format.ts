// The message codec's format (issue 15): the values users send most (records, arrays, strings,
// Maps, Sets, typed arrays, dates) in a tagged binary form written and read in JS, because V8's
// serializer costs 1.5-2.6 us to write and ~1.7 us to read a 4-field record here, whatever its
// size. codec-writer.ts writes it, codec-reader.ts reads it; serialize.ts picks it or V8's format
// per message (flag byte 4). Anything outside this set (Errors, multiproc objects, class
// instances, boxed primitives, arrays with holes or extra keys, ...) makes the writer give up and
// the whole message goes through V8's format as before, so the two never mix in one message and
// shared references stay shared. docs/codec.md has the measurements and the choice against
// msgpackr.
//
//   message: FLAG_CODEC (u8 = 4) or FLAG_CODEC_REFS (5: the value holds REFs), value
//   value:   tag u8, then
//     0x00-0x7f            the integer 0..127
//     0xa0-0xbf            an ASCII string of 0..31 bytes, the bytes follow
//     UNDEFINED NULL FALSE TRUE
//     INT32                4 bytes, little-endian
//     FLOAT64              8 bytes, little-endian (-0, NaN, fractions, |n| >= 2^31)
//     ASCII / UTF8         u32 byte length, bytes (ASCII: every byte < 0x80)
//     UTF16                u32 code units, 2 bytes each (strings with lone surrogates)
//     ARRAY                varint n, n values              (a dense array, no other own keys)
//     SHAPE                varint region bytes, region = varint k + k key strings (tagged), then
//                          k values: an object whose keys are defined here, shape index = the
//                          number of SHAPEs before it in this message
//     OBJECT               varint shape index, values    (an object of a shape defined earlier)
//     DICT                 varint n, n (key string, value)  (objects of more than MAX_SHAPE_KEYS)
//     MAP                  varint n, n (key, value);  SET: varint n, n values
//     DATE                 8 bytes (time value);  REGEXP: source string, flags string
//     BIGINT               u8 sign (0 +, 1 -), varint n, n magnitude bytes little-endian
//     ARRAY_BUFFER         varint n, n bytes
//     VIEW                 u8 kind (VIEW_KINDS), varint byte length, the bytes
//     REF                  varint object index: the object-th object of this message again
//   Every ARRAY, SHAPE, OBJECT, DICT, MAP, SET, DATE, REGEXP, ARRAY_BUFFER and VIEW is an object
//   and gets the next index when it starts (before its contents), so cycles and shared
//   references come back as they were. Only a FLAG_CODEC_REFS message has REFs, so the reader
//   of any other keeps no list of its objects. varint: 7 bits a byte, low first, at most 5 bytes (u32).
//
// The reader trusts nothing: every length is checked against the bytes left before anything is
// allocated, nesting is bounded, and what does not parse is ERR_CORRUPT.

export const FLAG_CODEC = 4;
export const FLAG_CODEC_REFS = 5;

export const T_FIXINT_MAX = 0x7f;
export const T_UNDEFINED = 0x80;
export const T_NULL = 0x81;
export const T_FALSE = 0x82;
export const T_TRUE = 0x83;
export const T_INT32 = 0x84;
export const T_FLOAT64 = 0x85;
export const T_ASCII = 0x86;
export const T_UTF8 = 0x87;
export const T_UTF16 = 0x88;
export const T_ARRAY = 0x89;
export const T_SHAPE = 0x8a;
export const T_OBJECT = 0x8b;
export const T_DICT = 0x8c;
export const T_MAP = 0x8d;
export const T_SET = 0x8e;
export const T_DATE = 0x8f;
export const T_REGEXP = 0x90;
export const T_BIGINT = 0x91;
export const T_ARRAY_BUFFER = 0x92;
export const T_VIEW = 0x93;
export const T_REF = 0x94;
export const T_FIXSTR = 0xa0;
export const FIXSTR_MAX = 31;

/** Objects with more keys than this are written as DICT (a dictionary, not a record). */
export const MAX_SHAPE_KEYS = 32;
/** Deeper nesting goes through V8's format (writer) or is corrupt (reader). */
export const MAX_DEPTH = 256;

/** The typed array classes by kind byte; Buffer is its own kind so a Buffer comes back a Buffer. */
export const VIEW_KINDS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
  Buffer,
] as const;
export const VIEW_BUFFER = VIEW_KINDS.length - 1;
export const VIEW_DATAVIEW = VIEW_KINDS.length - 2;
