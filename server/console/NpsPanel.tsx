/**
 * The NPS of the current segment (docs/API.md#get-apiv2adminnps): the score, how many promoters,
 * passives and detractors, and the weekly score as a small inline SVG line — no chart library,
 * the console bundle stays small. Loads on its own; its states are the lists' states, small.
 */
import type { Get } from './api.ts';
import { number } from './format.ts';
import { Failed } from './States.tsx';
import { useLoad } from './useLoad.ts';

export interface Nps {
  score: number | null;
  promoters: number;
  passives: number;
  detractors: number;
  responses: number;
  weekly: { week: string; score: number | null; responses: number }[];
}

const W = 160;
const H = 40;

/** The trend's polyline points: weeks left to right, score -100..100 bottom to top. Pure. */
export function trendPoints(weekly: Nps['weekly'], w = W, h = H): string {
  const pts = weekly.filter((x) => x.score !== null);
  if (pts.length === 0) return '';
  const step = pts.length > 1 ? w / (pts.length - 1) : 0;
  return pts
    .map(
      (p, n) =>
        `${Math.round((pts.length > 1 ? n * step : w / 2) * 10) / 10},${Math.round(((100 - (p.score as number)) / 200) * h * 10) / 10}`,
    )
    .join(' ');
}

export function NpsPanel({
  get,
  query,
  version,
  onError,
}: {
  get: Get;
  query: string;
  version: number;
  onError: (e: unknown) => void;
}) {
  const path = `/nps${query ? `?${query}` : ''}`;
  const [nps, retry] = useLoad<Nps>(path, () => get<Nps>(path), version, onError);
  return (
    <aside class="nps" aria-label="NPS of this segment" aria-busy={nps.state === 'loading'}>
      {nps.state === 'error' ? (
        <Failed error={nps.error} retry={retry} />
      ) : !nps.data ? (
        <p class="secondary">Loading NPS…</p>
      ) : nps.data.responses === 0 ? (
        <p class="secondary">
          <strong>NPS</strong> — no answers in this segment yet.
        </p>
      ) : (
        <>
          <div>
            <span class="nps-score">NPS {nps.data.score}</span>{' '}
            <span class="secondary">
              {number(nps.data.responses)} answers: {number(nps.data.promoters)} promoters, {number(nps.data.passives)}{' '}
              passives, {number(nps.data.detractors)} detractors
            </span>
          </div>
          <svg
            class="trend"
            width={W}
            height={H}
            viewBox={`-2 -2 ${W + 4} ${H + 4}`}
            role="img"
            aria-label={`Weekly NPS over ${nps.data.weekly.length} weeks`}
          >
            <line x1="0" x2={W} y1={H / 2} y2={H / 2} class="trend-zero" />
            <polyline points={trendPoints(nps.data.weekly)} class="trend-line" />
            {nps.data.weekly.length === 1 && (
              <circle cx={W / 2} cy={((100 - (nps.data.weekly[0].score ?? 0)) / 200) * H} r="2.5" class="trend-dot" />
            )}
          </svg>
        </>
      )}
    </aside>
  );
}
