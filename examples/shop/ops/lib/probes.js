// A plain JS module shared by service files: imports work like in any JS project.
export const redisHealth = { tcp: 'redis', period: 5 };
