export * from './principal.js';
export * from './provider.js';
export { createIdentityProvider, DEMO_KIOSK_DEVICE_KEY } from './identity-provider.js';
export { TokenSigner } from './tokens.js';
export { loadTokenSecret } from './token-secret.js';
export { seedStaff } from './staff-seed.js';
