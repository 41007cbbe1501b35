/**
 * Bookkeeping of the tensors JS holds, and the safety net for forgotten ones.
 *
 * dispose() frees a tensor at once. A Tensor that is garbage-collected without dispose() is freed by a
 * FinalizationRegistry callback. V8 only collects when its own heap fills, and a Tensor is a tiny JS
 * object holding possibly megabytes of native memory, so forgotten tensors could pile up for ever. So
 * we count the host bytes held by live Tensors and, each time they have grown by collectThresholdBytes
 * since the last collection, ask V8 for a full collection (the FinalizationRegistry callbacks then run
 * on the next turns of the event loop). A tight synchronous loop never yields to those callbacks:
 * dispose() or `using` is the tool there.
 */
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import type { NativeTensorHandle } from '../native';

interface Held {
  handle: NativeTensorHandle;
  hostBytes: number;
}

let liveTensors = 0;
let liveHostBytes = 0;
let liveHostBytesAfterCollect = 0;
let collectThresholdBytes = 256 * 1024 * 1024;
let collectGarbage: (() => void) | null | undefined;

const forgottenTensors = new FinalizationRegistry<Held>((held) => {
  held.handle.dispose();
  untrack(held.hostBytes);
});

function untrack(hostBytes: number): void {
  liveTensors--;
  liveHostBytes -= hostBytes;
}

function fullCollection(): (() => void) | null {
  if (collectGarbage === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') {
      collectGarbage = exposed;
    } else {
      try {
        // The documented way to reach V8's gc() without starting node with --expose-gc.
        setFlagsFromString('--expose-gc');
        collectGarbage = runInNewContext('gc') as () => void;
      } catch {
        collectGarbage = null;
      }
    }
  }
  return collectGarbage;
}

/** Starts tracking a new Tensor; returns the token dispose() passes to release(). */
export function track(owner: object, handle: NativeTensorHandle): Held {
  const held = { handle, hostBytes: handle.hostBytes() };
  forgottenTensors.register(owner, held, owner);
  liveTensors++;
  liveHostBytes += held.hostBytes;
  if (liveHostBytes - liveHostBytesAfterCollect > collectThresholdBytes) {
    fullCollection()?.();
    liveHostBytesAfterCollect = liveHostBytes;
  }
  return held;
}

/** dispose(): frees the native tensor now and stops tracking it. */
export function release(owner: object, held: Held): void {
  forgottenTensors.unregister(owner);
  held.handle.dispose();
  untrack(held.hostBytes);
}

export interface MemoryStats {
  /** Tensors created from JS and neither disposed nor collected yet. */
  liveTensors: number;
  /** Host (CPU) bytes those tensors hold (device memory is not counted). */
  liveHostBytes: number;
  /** Growth of liveHostBytes that triggers a full garbage collection. */
  collectThresholdBytes: number;
}

export function memoryStats(): MemoryStats {
  return { liveTensors, liveHostBytes, collectThresholdBytes };
}

/** Sets how many bytes of new, undisposed host tensors trigger a full collection (0 < bytes). */
export function setCollectThreshold(bytes: number): void {
  if (!Number.isFinite(bytes) || bytes <= 0) throw new RangeError('collect threshold must be a positive number of bytes');
  collectThresholdBytes = bytes;
}
