/** From the validated `ota` config section to the agent's config; undefined leaves the agent off. */
import type { GatewayConfig } from '../gateway/config/schema.ts';
import type { OtaConfig } from './agent.ts';

export function otaConfigFrom(section: GatewayConfig['ota']): OtaConfig | undefined {
  if (!section?.enabled || section.repositoryUrl === undefined || section.trustedRoot === undefined) return undefined;
  const { caFile, hotlistTarget, ...rest } = section;
  return {
    ...rest,
    repositoryUrl: section.repositoryUrl,
    trustedRoot: section.trustedRoot,
    ...(caFile !== undefined ? { caFile } : {}),
    ...(hotlistTarget !== undefined ? { hotlistTarget } : {}),
  };
}
