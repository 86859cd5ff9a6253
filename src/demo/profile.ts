/**
 * How long each act of the demo lasts and how hard it writes. Two profiles: the default one
 * for a person watching (under a minute), and `--quick` for CI (under ~20 s).
 *
 * The numbers are chosen so the story always happens: while berlin is away, london and
 * paris each append far more than their short streams keep (`shortStreamMaxlen`), so berlin's
 * cursors fall off them and only the cold path can bring it back; berlin writes little and
 * keeps a long stream, so london and paris catch up with it on the hot path.
 */
export interface DemoProfile {
  readonly name: 'full' | 'quick';
  /** Act 1: everyone connected, writing. */
  readonly connectedMs: number;
  /** Act 2: berlin cut off, everyone still writing. */
  readonly cutMs: number;
  /** One round of writes on every node per tick. */
  readonly tickMs: number;
  /** Puts and deletes per node per tick (plus one write of a hot key shared by all nodes). */
  readonly putsPerTick: number;
  readonly deletesPerTick: number;
  /** Extra puts on london per tick while berlin is away (a bulk import). */
  readonly londonBurstPerTick: number;
  /** berlin's puts per tick while it is cut off. */
  readonly cutOffPutsPerTick: number;
  /** Distinct `item:` keys: small enough that nodes overwrite and delete each other's keys. */
  readonly keySpace: number;
  /** Distinct `hot:` keys, written by all three nodes in the same tick (true conflicts). */
  readonly hotKeys: number;
  /** `store.cdc_maxlen` of london and paris. */
  readonly shortStreamMaxlen: number;
  /** After the heal, how long the nodes get to agree before the demo reports failure. */
  readonly convergeTimeoutMs: number;
}

export const FULL_PROFILE: DemoProfile = {
  name: 'full',
  connectedMs: 6_000,
  cutMs: 6_000,
  tickMs: 100,
  putsPerTick: 5,
  deletesPerTick: 1,
  londonBurstPerTick: 10,
  cutOffPutsPerTick: 2,
  keySpace: 400,
  hotKeys: 5,
  shortStreamMaxlen: 200,
  convergeTimeoutMs: 30_000,
};

export const QUICK_PROFILE: DemoProfile = {
  name: 'quick',
  connectedMs: 2_500,
  cutMs: 3_000,
  tickMs: 100,
  putsPerTick: 4,
  deletesPerTick: 1,
  londonBurstPerTick: 10,
  cutOffPutsPerTick: 2,
  keySpace: 200,
  hotKeys: 4,
  shortStreamMaxlen: 200,
  convergeTimeoutMs: 30_000,
};
