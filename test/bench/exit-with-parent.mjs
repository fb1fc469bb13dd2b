// Preloaded (`node --import`) into the app under benchmark: when the harness that started it goes away — even
// killed outright — the IPC channel closes and the app shuts down as on SIGTERM, so nothing is left running.
if (process.channel) {
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
