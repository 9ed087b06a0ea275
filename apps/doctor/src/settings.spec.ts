import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSettings } from './settings';

describe('doctor settings', () => {
  it("reads credentials from the pod's <NAME>_FILE like the services do", () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'taskit-doctor-'));
    writeFileSync(path.join(folder, 'rabbitmq-url'), 'amqps://gateway:pw@10.3.0.2:5671/taskit\n');
    const settings = loadSettings({ RABBITMQ_URL_FILE: path.join(folder, 'rabbitmq-url') });
    expect(settings.rabbitmqUrl).toBe('amqps://gateway:pw@10.3.0.2:5671/taskit');
    expect(settings.rabbitmqManagementUrl).toBe('https://gateway:pw@10.3.0.2:15671');
    expect(() => loadSettings({ INFLUX_TOKEN_FILE: path.join(folder, 'absent') })).toThrow(
      /INFLUX_TOKEN_FILE: cannot read .*absent \(ENOENT\)/,
    );
  });
});
