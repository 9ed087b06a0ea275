/**
 * redis-server's arguments for a server of ours on `port`: bound to 127.0.0.1, in the
 * foreground, no persistence (a restart loses every key). The local stack and the fault
 * tests' private servers run the same.
 */
export function redisServerArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
  ];
}
