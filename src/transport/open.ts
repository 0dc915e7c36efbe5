/** Opens the syslog connection the settings describe. */
import type { ForwarderConfig } from '../config';
import { HecTransport } from './hec';
import { StreamTransport } from './stream';
import type { SyslogTransport } from './transport';
import { UdpTransport } from './udp';

export function openTransport(config: ForwarderConfig): Promise<SyslogTransport> {
  if (config.output === 'splunk-hec') return HecTransport.connect(config.hec!);
  if (config.protocol === 'tls' && config.tls.insecure) {
    console.warn(
      `WARNING sls-syslog-forwarder: SYSLOG_TLS_INSECURE=true - the certificate of ${config.host}:${config.port} is NOT verified; ` +
        'anyone on the network path can read and alter these logs. Set SYSLOG_TLS_CA_FILE instead.',
    );
  }
  if (config.protocol === 'udp') return UdpTransport.connect(config.host, config.port);
  return StreamTransport.connect({
    host: config.host,
    port: config.port,
    framing: config.framing,
    connectTimeoutMs: config.connectTimeoutMs,
    writeTimeoutMs: config.writeTimeoutMs,
    tls: config.protocol === 'tls' ? config.tls : undefined,
  });
}
