import { createApiClient } from './api-client.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, stringFlag, type CliCommand } from './cli-command.js';
import { CliError } from './cli-error.js';
import { resolveConnection } from './connection.js';
import { outputFormatOf, render } from './output-format.js';

export const istioWasmPluginCommand: CliCommand = {
  words: ['istio', 'wasmplugin'],
  summary: 'Print an Istio WasmPlugin that deploys the filter with a DLP policy',
  usesApi: true,
  options: {
    ...CONNECTION_OPTIONS,
    policy: { type: 'string', short: 'p' },
    'module-url': { type: 'string' },
    sha256: { type: 'string' },
    name: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
    selector: { type: 'string', short: 'l' },
    phase: { type: 'string' },
    priority: { type: 'string' },
    'image-pull-policy': { type: 'string' },
    'image-pull-secret': { type: 'string' },
    ports: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  help: `usage: meshward istio wasmplugin --policy <name> --module-url <url> [flags]

Prints the Istio WasmPlugin resource (extensions.istio.io/v1alpha1) that runs the meshward filter
in the selected sidecars or gateways with the stored DLP policy's config, ready for
\`kubectl apply -f -\`. Push the module first with \`npm run package:oci\` (docs/istio.md).

Defaults: phase STATS (after Istio's authentication and authorization), priority 10,
imagePullPolicy IfNotPresent, failStrategy from the policy's failureMode (FAIL_CLOSED →
FAIL_CLOSE, FAIL_OPEN → FAIL_OPEN), pluginName meshward, type HTTP.

Flags:
  -p, --policy <name>          stored DLP policy (required)
  --module-url <url>           module location (required):
                               oci://registry/repo:tag, oci://registry/repo@sha256:..., https://..., file:///...
  --sha256 <hex>               oci: image manifest digest; https: module digest (required for http/https)
  --name <name>                metadata.name (default meshward-<policy>)
  -n, --namespace <ns>         metadata.namespace (istio-system: every workload of the mesh)
  -l, --selector <k=v,...>     workload labels (spec.selector.matchLabels)
  --phase <AUTHN|AUTHZ|STATS>  where in Istio's filter chain
  --priority <int>             order within the phase (higher first)
  --image-pull-policy <p>      IfNotPresent or Always
  --image-pull-secret <name>   registry credentials Secret
  --ports <p,...>              only inbound traffic to these ports
  -o, --output <yaml|json>     default yaml

${CONNECTION_HELP}

Example:
  meshward istio wasmplugin --policy global --module-url oci://ghcr.io/acme/meshward-filter:0.1.0 \\
    --sha256 <manifest digest printed by npm run package:oci> -n ai -l app=chat | kubectl apply -f -`,
  async run(positionals, flags, io) {
    if (positionals.length > 0) throw CliError.usage(`istio wasmplugin: unexpected argument "${positionals[0]!}"`);
    const policy = stringFlag(flags, 'policy');
    if (policy === undefined) throw CliError.usage('--policy: required (the name of a stored DLP policy)');
    const url = stringFlag(flags, 'module-url');
    if (url === undefined) throw CliError.usage('--module-url: required (where proxies fetch the module, e.g. oci://registry/meshward-filter:0.1.0)');
    const format = outputFormatOf(stringFlag(flags, 'output'), 'yaml');
    if (format === 'table') throw CliError.usage('--output: yaml or json');
    const q = new URLSearchParams({ url });
    const map: [string, string][] = [
      ['sha256', 'sha256'],
      ['name', 'name'],
      ['namespace', 'namespace'],
      ['selector', 'selector'],
      ['phase', 'phase'],
      ['priority', 'priority'],
      ['image-pull-policy', 'imagePullPolicy'],
      ['image-pull-secret', 'imagePullSecret'],
      ['ports', 'ports'],
    ];
    for (const [flag, param] of map) {
      const v = stringFlag(flags, flag);
      if (v !== undefined) q.set(param, flag === 'phase' ? v.toUpperCase() : v);
    }
    const client = createApiClient(resolveConnection(flags, io), io.fetch);
    const res = await client.request('GET', `/v1/dlp-policies/${encodeURIComponent(policy)}/wasm-plugin?${q.toString()}`);
    io.stdout.write(render(res.body, format));
    return 0;
  },
};
