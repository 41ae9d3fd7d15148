export { repoRoot, composeFilePath, dockerfilePaths, kustomizeDirs, scaleToZeroOverlayDir, redisTopologyOverlayDirs, composeOverridePaths, deploymentYamlFiles, grafanaDirs, alertRulePaths } from './repo-paths.js';
export { parseYamlDocuments, readYamlDocuments, readYamlFile } from './yaml-file.js';
export { loadComposeFile, composeSchemaErrors, type ComposeFile, type ComposeService } from './compose-file.js';
export { renderKustomization, type RenderOptions } from './kustomize-build.js';
export { podContainers, type K8sObject } from './k8s-object.js';
export { kubernetesSchemaErrors } from './kubernetes-schema.js';
export { parseDockerfile, envInstructionNames, type DockerInstruction, type DockerStage, type ParsedDockerfile } from './dockerfile.js';
export { envVarsUsed, composeEnvVars, composeOverrideEnvVars, kubernetesEnvVars, dockerfileEnvVars, unknownEnvVars, isKnownEnvVar, type EnvVarUse } from './env-vars.js';
export { WORKER_DRAIN_SECONDS } from './worker-drain.js';
export { promqlMetricNames, promqlSyntaxErrors, withGrafanaDurations } from './promql.js';
export {
  dashboardExpressions,
  readDashboards,
  readRuleGroups,
  ruleExpressions,
  type Dashboard,
  type MonitoringExpression,
  type RuleGroup,
} from './monitoring-expressions.js';
