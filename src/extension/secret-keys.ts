/** SecretStorage keys: secrets live there only, never in settings, logs or the state folder. */
export const API_KEY_SECRET = 'orchestr8.anthropicApiKey';
/** Signs webhook deliveries (`X-Orchestr8-Signature`); set with "Set Webhook Signing Secret". */
export const WEBHOOK_SECRET = 'orchestr8.webhookSecret';
