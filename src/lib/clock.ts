/** The time as the app sees it for expiries it decides itself (invitations, reset tokens); tests inject one. */
export type Clock = () => Date

export const systemClock: Clock = () => new Date()
