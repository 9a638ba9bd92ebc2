/** The backends `render --backend` accepts; `index.ts` maps each to its code (its type keeps the two alike). */
export const BACKEND_NAMES = ['kubernetes', 'compose'] as const;

export type BackendName = (typeof BACKEND_NAMES)[number];
