/**
 * The embedded dev identity provider's signing key (RSA 2048, RS256).
 *
 * DEV-ONLY KEY. It is committed to the repository, so it is public knowledge: anyone can mint tokens with it.
 * It is used only by the embedded dev identity provider (src/dev-idp), which refuses to start when
 * NODE_ENV=production. Never configure it, or anything derived from it, in a real deployment.
 * It is fixed (not generated at startup) so boot stays fast and tokens survive restarts.
 */
export const DEV_SIGNING_KEY_ID = 'questline-dev-1';

export const DEV_SIGNING_KEY: Readonly<Record<string, string>> = Object.freeze({
  kty: 'RSA',
  kid: DEV_SIGNING_KEY_ID,
  use: 'sig',
  alg: 'RS256',
  n: 'k0E7bybncBWaTohSLotH4Ba_KMxUcxXwv5no8SkL6akycQv1s570T95KlhNZQMp9DFmetcnIu-via9A3pJjpvEk3kQXI-3ZkEG78K7UB9-mFBW94J34SCXs0f3lVNET3Dg45wUiKIXtHJxa4D3xCCkKjL8fS7VQMjSFRsAtZJXnk6l_6SkYXfgnHvFS5ry4qaJ005M17M5g2kXFy6epXwVL5W4uN_jOtDLLaO8u8GajbumfVVjn6LcFSIRNg-xituSROHayOQkKF9N_doZfQVxq5_o3HOnfzMEsgiHnrmVRoCk6E_ioqwcTtpmGmzlEQvAZGdYisUnZf0QQtnWvTiw',
  e: 'AQAB',
  d: 'KNeB5Y1TyamkN73llVU6JTQJ5wXtMlJWiL3mduTckf1EqUgY6K3gszpDU6agLbE7x64fr-n8i-qbzS1eEX_77CYejFGfcedfT5OIy5KTrjANnflRyRpVZF3QrL55XFr4buSRLkOxVCH-FSBfAqSDKJdc7YatwPd717TzFDHBkvv1P2gfCgUx_oFZR6FYf5xaWx2IF9RtsWrB9ycrWH86iat0IYDTHMd4M-UAcBAccqKaU9hCZggb4PQslVemLZn8nl8lvPA5cJDzVmyuvPGZQSsnRH9qmVRa83C9SzO10_ynRwX_lS-HjPgOSQg62pT7oaMUDZuWk1USE7BsPDhuKQ',
  p: 'xsZVALQel1Ov2wgdmfeMCViqveDx9aJkenuykla-_WY6LwSRg6owE6yhdpd5CORR8ppKDo1P2kogUWBIkcGhGf7ZUriXqTGXlJcyUWBWGwQ7OH4os7CDCV1bBYWSQU4IMT8F_SaHvdS7b1mUTTczjAE5hiqSM2xuCbqzUlmcmQc',
  q: 'vaXjwnJdPnR4GFJTF6XgNfEeknzCTfPlAFJnAHcUCzwgeAVcs8oKp8OCocAPbc6rGo2Utc9QxKAuYchhTQfrD4EsLel4H5mcykAICJdjVmN41-j_yOYQoE9NN4Dpe0lyKn1MPX3glKnHWkIs_oNxUE0iRZ0ley5mVuSxGxVS5F0',
  dp: 'Af1aPHeRFtKvn_Gk2jWwISfSDbSCt4K4nsE-OFjF8KNlUbMqAbdiY9AGjblWbNBcQaFpvFuNwRGc4TOlhk_53NjANCPE4NyuN76LsmTUd9DDBv28SpApv54_mv6LSDwPuO54kOAh27SVa7fp1BwJWA1rFfy3Geyr7U0BHoHnH2E',
  dq: 'WBg2K34KeFeL7ehX9tUzyHrf87YGYEWaK8MbW6j0458jif0bqdyBhJqaFN7ti9mDu8rmuGm8IAo0YXG-WRUDiOk9B3q7NRqbLYv-71a7a0a7vLfcEYtlT8JmoRC95GoioUAg6TOO3h_bnb69veB7A41BDUtJPOY53cVPy7_lCHU',
  qi: 'Ic2cBd_S05-djC2595QiShFsdLXlZyYzCS1oQjNvNmCEHBdWzEme1eoSmzC-GDGb4mukAqaDjY4_w2DzdFUL-DJtphFRjywfEPMOT837zaHhsasbBAqkCnzsRFEswA5vMwU7fcO2FYgUP-NUrVy7eAWvqVl8TkWcsYCYKgsCzGo',
});
