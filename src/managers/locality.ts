// Whether a manager's client shares this machine's shared memory. A client sends the identity of
// its /dev/shm in its hello: the kernel's boot id (the same kernel) and the device and inode of
// /dev/shm (the same tmpfs, not a container's own). When it matches the server's, the two may
// exchange segment names instead of bytes (docs/design.md, "Managers": local clients).
import { readFileSync, readlinkSync, statSync } from "node:fs";

let identity: string | undefined | null = null;

/** This machine's shared-memory identity, or undefined if it cannot be told (no /proc, no /dev/shm). */
export function shmIdentity(): string | undefined {
  if (identity === null) {
    try {
      const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
      const shm = statSync("/dev/shm", { bigint: true });
      identity = `${boot}/${shm.dev}/${shm.ino}`;
    } catch {
      identity = undefined;
    }
  }
  return identity;
}

let pidns: string | undefined | null = null;

/**
 * This process's pid namespace ("pid:[inode]"), or undefined: a peer that shares /dev/shm may
 * still see other processes under /proc (a container with the host's IPC but its own pids).
 */
export function pidNamespace(): string | undefined {
  if (pidns === null) {
    try {
      pidns = `${shmIdentity() ?? ""}/${readlinkSync("/proc/self/ns/pid")}`;
    } catch {
      pidns = undefined;
    }
  }
  return pidns;
}
