/**
 * B5 — the engine's peak memory: the peak RSS (VmHWM, the kernel's high-water mark of the
 * process's address space: exact, not sampled) of the process running the engine, alone in its process
 * (bench/engine-child.ts, compiled to JavaScript, on bare Node, as the daemon runs). Measured
 * during B1 (one engine catching up on the preloaded stream) and B2 (three engines under steady
 * load; the largest of the three).
 */
import { row, type Row, type Section } from './report.js';

export const B5_TARGET_MB = 200;

/** KiB → MB (10^6 bytes), the unit of the target. */
const mb = (kib: number): number => (kib * 1024) / 1e6;

/** A peak's target is about the worst case: the value is the largest of the runs, not the median. */
function peakRow(name: string, kib: number[]): Row {
  const r = row(name, 'MB', kib.map(mb), { target: { op: '<=', value: B5_TARGET_MB } });
  return { ...r, value: r.spread!.max, note: 'value = the largest peak (min–max over runs)' };
}

export function memorySection(b1PeakKb: number[] | null, b2PeakKb: number[] | null): Section {
  const rows: Row[] = [];
  if (b1PeakKb && b1PeakKb.length > 0) {
    rows.push(peakRow('engine peak RSS during B1', b1PeakKb));
  }
  if (b2PeakKb && b2PeakKb.length > 0) {
    rows.push(peakRow('engine peak RSS during B2 (largest of the 3 engines)', b2PeakKb));
  }
  return {
    id: 'B5',
    title: 'engine memory',
    rows,
    notes: [
      'Peak RSS of the engine process (VmHWM from /proc/self/status; not ru_maxrss, which on Linux keeps the forking parent\'s peak across exec), each engine alone in its process; an idle Node process with the engine\'s modules loaded is ~75 MB of it.',
    ],
  };
}
