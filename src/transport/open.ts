/** Opens the syslog connection the settings describe. */
import type { ForwarderConfig } from '../config';
import { HecTransport } from './hec';
import { RelpTransport } from './relp';
import { StreamTransport } from './stream';
import type { SyslogTransport } from './transport';
import { UdpTransport } from './udp';

/** `deadlineMs`: the connect and TLS handshake end by then at the latest; later waits follow `transport.deadlineMs`. */
export async function openTransport(config: ForwarderConfig, deadlineMs = Number.POSITIVE_INFINITY): Promise<SyslogTransport> {
  const transport = await openUnbounded(config, deadlineMs);
  transport.deadlineMs = deadlineMs;
  return transport;
}

function openUnbounded(config: ForwarderConfig, deadlineMs: number): Promise<SyslogTransport> {
  if (config.output === 'splunk-hec') return HecTransport.connect(config.hec!);
  const useTls = config.protocol === 'tls' || config.relpTls;
  if (useTls && config.tls.insecure) {
    console.warn(
      `WARNING sls-syslog-forwarder: SYSLOG_TLS_INSECURE=true - the certificate of ${config.host}:${config.port} is NOT verified; ` +
        'anyone on the network path can read and alter these logs. Set SYSLOG_TLS_CA_FILE instead.',
    );
  }
  if (config.protocol === 'udp') return UdpTransport.connect(config.host, config.port);
  const common = {
    host: config.host, port: config.port, connectTimeoutMs: config.connectTimeoutMs, writeTimeoutMs: config.writeTimeoutMs,
    proofTimeoutMs: config.proofTimeoutMs, tls: useTls ? config.tls : undefined, deadlineMs,
  };
  if (config.protocol === 'relp') return RelpTransport.connect(common);
  return StreamTransport.connect({ ...common, framing: config.framing, proof: config.deliveryProof });
}
