// Pickle's opcodes (CPython Lib/pickle.py and Lib/pickletools.py, protocols 2 to 5) as data, the
// codec's limits, and the only globals the reader accepts. The reader (reader.ts) refuses every
// opcode not listed in READ_OPCODES and every global not listed in GLOBALS, so what it builds is
// always plain data: no class is looked up and nothing is called.

/** Opcode bytes by name (pickletools' names). */
export const Op = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  POP: 0x30, // 0
  POP_MARK: 0x31, // 1
  DUP: 0x32, // 2
  BINBYTES: 0x42, // B  u32 length
  SHORT_BINBYTES: 0x43, // C  u8 length
  BINFLOAT: 0x47, // G  big-endian float64
  BININT: 0x4a, // J  i32
  BININT1: 0x4b, // K  u8
  BININT2: 0x4d, // M  u16
  NONE: 0x4e, // N
  REDUCE: 0x52, // R
  BINUNICODE: 0x58, // X  u32 length
  EMPTY_LIST: 0x5d, // ]
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c  "module\nname\n"
  APPENDS: 0x65, // e
  BINGET: 0x68, // h  u8
  LONG_BINGET: 0x6a, // j  u32
  BINPUT: 0x71, // q  u8
  LONG_BINPUT: 0x72, // r  u32
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  SETITEMS: 0x75, // u
  EMPTY_DICT: 0x7d, // }
  EMPTY_TUPLE: 0x29, // )
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a, // u8 length, little-endian two's complement
  LONG4: 0x8b, // i32 length
  SHORT_BINUNICODE: 0x8c, // u8 length
  BINUNICODE8: 0x8d, // u64 length
  BINBYTES8: 0x8e, // u64 length
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95, // u64 length of the frame that follows (a hint; read through)
  BYTEARRAY8: 0x96, // u64 length
  READONLY_BUFFER: 0x98,
  // Known, and refused by the reader (ERR_PICKLE_REFUSED): references to code or to objects kept
  // outside the pickle, out-of-band buffers, and protocol 0/1's text forms.
  PERSID: 0x50, // P
  BINPERSID: 0x51, // Q
  EXT1: 0x82,
  EXT2: 0x83,
  EXT4: 0x84,
  INST: 0x69, // i
  OBJ: 0x6f, // o
  NEXT_BUFFER: 0x97,
  INT: 0x49, // I
  LONG: 0x4c, // L
  FLOAT: 0x46, // F
  STRING: 0x53, // S
  BINSTRING: 0x54, // T
  SHORT_BINSTRING: 0x55, // U
  UNICODE: 0x56, // V
  DICT: 0x64, // d
  LIST: 0x6c, // l
  GET: 0x67, // g
  PUT: 0x70, // p
} as const;

export type OpName = keyof typeof Op;

/** Byte -> name, for the opcodes the reader knows; anything else is refused by name or byte. */
export const OP_NAMES: ReadonlyMap<number, OpName> = new Map(Object.entries(Op).map(([name, byte]) => [byte, name as OpName]));

/** Protocols the reader accepts in PROTO, and the one the writer speaks (CPython 3.8+'s default). */
export const MIN_READ_PROTOCOL = 2;
export const MAX_READ_PROTOCOL = 5;
export const WRITE_PROTOCOL = 4;

/** Bounds on what one pickle may make the reader hold (each refused with ERR_CORRUPT). */
export interface PickleLimits {
  /** Largest pickle read, in bytes. */
  maxBytes: number;
  /** Most memo entries. */
  maxMemo: number;
  /** Deepest nesting of containers in the value read (and written). */
  maxDepth: number;
  /** Longest int, in bytes (LONG1/LONG4). */
  maxIntBytes: number;
}

export const DEFAULT_LIMITS: PickleLimits = {
  maxBytes: 1 << 30,
  maxMemo: 1 << 20,
  maxDepth: 1000,
  maxIntBytes: 4096,
};

/**
 * What an accepted global stands for. The reader never resolves a name to code: each kind below
 * is a data shape that REDUCE/NEWOBJ/BUILD on it produce (reader.ts).
 *  - set / frozenset / bytearray / bytes-from-latin1: protocol 2's spellings of those values
 *    (`__builtin__.set([1])`, `_codecs.encode("\xff", "latin1")`), turned into the value.
 *  - ordered-dict: `collections.OrderedDict()` then SETITEMS: a dict.
 *  - slice: `slice(1, 3, None)`, what `proxy[1:3]` sends.
 *  - list: `list([...])`, how CPython's managers send dict views (`d.keys()`: rebuild_as_list).
 *  - token: `multiprocessing.managers.Token` (NEWOBJ, then BUILD with (typeid, address, id)).
 *  - rebuild-proxy / proxy-type: a proxy inside a value (RebuildProxy(AutoProxy, token, ...)).
 *  - exception: an exception raised by the peer (`('#ERROR', KeyError('x'))`), kept as its name
 *    and args.
 */
export type GlobalKind = "set" | "frozenset" | "bytearray" | "bytes" | "latin1-bytes" | "ordered-dict" | "slice" | "list" | "token" | "rebuild-proxy" | "proxy-type" | "exception";

const BUILTIN_EXCEPTIONS = [
  "BaseException", "Exception", "ArithmeticError", "AssertionError", "AttributeError", "BlockingIOError",
  "BrokenPipeError", "BufferError", "ChildProcessError", "ConnectionAbortedError", "ConnectionError",
  "ConnectionRefusedError", "ConnectionResetError", "EOFError", "FileExistsError", "FileNotFoundError",
  "FloatingPointError", "IndexError", "InterruptedError", "IsADirectoryError", "KeyError", "KeyboardInterrupt",
  "LookupError", "MemoryError", "ModuleNotFoundError", "ImportError", "NameError", "NotADirectoryError",
  "NotImplementedError", "OSError", "OverflowError", "PermissionError", "ProcessLookupError", "RecursionError",
  "ReferenceError", "RuntimeError", "StopIteration", "StopAsyncIteration", "SystemError", "TimeoutError",
  "TypeError", "UnboundLocalError", "UnicodeError", "ValueError", "ZeroDivisionError",
];

const PROXY_TYPES = [
  "AutoProxy", "BaseProxy", "DictProxy", "ListProxy", "BaseListProxy", "IteratorProxy", "NamespaceProxy", "ValueProxy",
  "ArrayProxy", "AcquirerProxy", "ConditionProxy", "EventProxy", "BarrierProxy", "PoolProxy",
];

/** "module\nname" -> kind: the only globals the reader accepts. */
export const GLOBALS: ReadonlyMap<string, GlobalKind> = new Map<string, GlobalKind>([
  ...["builtins", "__builtin__"].flatMap((m): [string, GlobalKind][] => [
    [`${m}\nset`, "set"],
    [`${m}\nfrozenset`, "frozenset"],
    [`${m}\nbytearray`, "bytearray"],
    [`${m}\nbytes`, "bytes"],
    [`${m}\nslice`, "slice"],
    [`${m}\nlist`, "list"],
    ...BUILTIN_EXCEPTIONS.map((name): [string, GlobalKind] => [`${m}\n${name}`, "exception"]),
  ]),
  // Protocol 2 with fix_imports writes Python 2's names for the exceptions and the queue module.
  ...BUILTIN_EXCEPTIONS.map((name): [string, GlobalKind] => [`exceptions\n${name}`, "exception"]),
  ["Queue\nEmpty", "exception"],
  ["Queue\nFull", "exception"],
  ["_codecs\nencode", "latin1-bytes"],
  ["collections\nOrderedDict", "ordered-dict"],
  ["multiprocessing.managers\nToken", "token"],
  ["multiprocessing.managers\nRebuildProxy", "rebuild-proxy"],
  ...PROXY_TYPES.map((name): [string, GlobalKind] => [`multiprocessing.managers\n${name}`, "proxy-type"]),
  ["multiprocessing.managers\nRemoteError", "exception"],
  ["multiprocessing\nTimeoutError", "exception"],
  ["multiprocessing.context\nTimeoutError", "exception"],
  ["multiprocessing.context\nProcessError", "exception"],
  ["multiprocessing.context\nAuthenticationError", "exception"],
  ["_queue\nEmpty", "exception"],
  ["queue\nEmpty", "exception"],
  ["queue\nFull", "exception"],
  ["threading\nBrokenBarrierError", "exception"],
]);
