// ShareableList get and set, per item, against CPython's ShareableList on the same layout. A list
// of 1,000 int64 items and one of 1,000 short strings; one operation is one get (or set) of one
// item, batched over the whole list. CPython reads and writes through struct on every access;
// we decode the same bytes with a DataView.
import { ShareableList, type ShareableItem } from "multiproc";
import { timeOps, type BenchSpec, type Measurement } from "./harness.js";

const ITEMS = 1_000;
const PASSES = 50;
const BATCH = ITEMS * PASSES;

const ints = (): ShareableItem[] => Array.from({ length: ITEMS }, (_, i) => i * 7);
const strs = (): ShareableItem[] => Array.from({ length: ITEMS }, (_, i) => `item-${i}`.padEnd(10, "."));

function onList(make: () => ShareableItem[], run: (list: ShareableList) => () => void, note: string): Measurement {
  return async () => {
    const list = new ShareableList(make());
    try {
      return { samples: await timeOps(run(list), { batch: BATCH, iterations: 20, time: 300 }), note };
    } finally {
      list.shm.close();
      list.shm.unlink();
    }
  };
}

// Results go to a sink so the reads cannot be optimised away.
let sink: unknown;

const get = (list: ShareableList) => () => {
  let last: ShareableItem = null;
  for (let p = 0; p < PASSES; p++) for (let i = 0; i < ITEMS; i++) last = list.get(i);
  sink = last;
};

const setInts = (list: ShareableList) => () => {
  for (let p = 0; p < PASSES; p++) for (let i = 0; i < ITEMS; i++) list.set(i, i + p);
};

const words = Array.from({ length: 16 }, (_, i) => `word-${i}`.padEnd(10, "!"));
const setStrs = (list: ShareableList) => () => {
  for (let p = 0; p < PASSES; p++) for (let i = 0; i < ITEMS; i++) list.set(i, words[(i + p) & 15]!);
};

export default {
  title: "ShareableList get/set of one item (time per item)",
  issue: 4,
  metric: { kind: "time" },
  multiproc: {
    "get int": onList(ints, get, "list.get(i) of an int64 item"),
    "set int": onList(ints, setInts, "list.set(i, n), n a safe integer"),
    "get str": onList(strs, get, "list.get(i) of a 10-byte string"),
    "set str": onList(strs, setStrs, "list.set(i, s), s a 10-byte string"),
  },
  python: ["get int", "set int", "get str", "set str"],
  compare: {
    "get int": ["CPython get int"],
    "set int": ["CPython set int"],
    "get str": ["CPython get str"],
    "set str": ["CPython set str"],
  },
  rounds: 5,
} satisfies BenchSpec;

export { sink as _sink };
