// Validates one rendered overlay of deploy/k8s (the output of
// `kubectl kustomize deploy/k8s/overlays/OVERLAY`), for deploy/k8s/check.sh:
//
//   node tools/k8s-test/validate.mjs OVERLAY RENDERED.yaml REPO_ROOT
//
// 1. Every object validates against its schema: kubernetes-models for the
//    Kubernetes kinds, @kubernetes-models/prometheus-operator for
//    PrometheusRule and ServiceMonitor, @kubernetes-models/keda for
//    ScaledObject (versions pinned in package-lock.json). A kind with no
//    schema here fails. (These schemas check types, enums and required
//    fields; they do not reject unknown fields.)
// 2. What the schemas cannot see: names the monitoring contract and the
//    README's commands use; the ServiceMonitor's selector and port names
//    against the Services and the pods behind them; probes; the security
//    context; references to ConfigMaps, Secrets and PVCs; PDBs; what each
//    overlay promises (single-node: one pod on SQLite; scaled: Redis with
//    deploy/redis.conf, workers scaled on sopilot_queue_depth, PostgreSQL).
//
// Exit 0: passed; 1: failed, each problem on its own line.
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

const [overlay, renderedPath, root] = process.argv.slice(2);
if (!overlay || !renderedPath || !root) {
  console.error("usage: validate.mjs OVERLAY RENDERED.yaml REPO_ROOT");
  process.exit(2);
}
const problems = [];
const fail = (msg) => problems.push(`${overlay}: ${msg}`);

const docs = parseAllDocuments(fs.readFileSync(renderedPath, "utf8"));
const objects = [];
for (const d of docs) {
  if (d.errors.length) fail(`YAML: ${d.errors[0].message}`);
  const o = d.toJS();
  if (o) objects.push(o);
}
if (objects.length === 0) fail("nothing rendered");
const id = (o) => `${o.kind}/${o.metadata?.namespace ?? "-"}/${o.metadata?.name}`;

// ---- 1. Schemas.
function schemaModule(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  if (group === "keda.sh") return `@kubernetes-models/keda/${group}/${version}/${kind}`;
  if (group === "") return `kubernetes-models/${version}/${kind}`;
  return `kubernetes-models/${group}/${version}/${kind}`;
}
for (const o of objects) {
  if (!o.apiVersion || !o.kind) {
    fail(`an object without apiVersion or kind: ${JSON.stringify(o).slice(0, 80)}`);
    continue;
  }
  let mod;
  try {
    mod = await import(schemaModule(o.apiVersion, o.kind));
  } catch (e) {
    fail(`${id(o)}: no schema for ${o.apiVersion} ${o.kind} (${e.code ?? e.message})`);
    continue;
  }
  try {
    new mod[o.kind](o).validate();
  } catch (e) {
    fail(`${id(o)} does not validate: ${e.message}`);
  }
}

// ---- 2. Semantics.
const find = (kind, name, ns = "sopilot") =>
  objects.find((o) => o.kind === kind && o.metadata?.name === name && (o.metadata?.namespace ?? "") === ns);
const all = (kind) => objects.filter((o) => o.kind === kind);
const matches = (selector, labels) =>
  selector && Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => (labels ?? {})[k] === v);
const workloads = objects.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind));
const podsOf = (o) => o.spec?.template?.spec;
const containerOf = (o) => podsOf(o)?.containers?.[0];
const envOf = (o) => Object.fromEntries((containerOf(o)?.env ?? []).map((e) => [e.name, e]));

// Names: the namespace, and every namespaced object in it but the dashboard.
if (!find("Namespace", "sopilot", "")) fail("no Namespace sopilot");
const clusterScoped = new Set(["Namespace"]);
for (const o of objects) {
  if (clusterScoped.has(o.kind)) continue;
  const want = o.kind === "ConfigMap" && o.metadata.name === "sopilot-grafana-dashboard" ? "monitoring" : "sopilot";
  if (o.metadata.namespace !== want) fail(`${id(o)} should be in namespace ${want}`);
}

// The README's and the monitoring contract's names (deploy/k8s/README.md
// lists the commands; check.sh checks they are there).
const api = find("Deployment", "sopilot-api");
const apiSvc = find("Service", "sopilot-api");
const sm = find("ServiceMonitor", "sopilot");
const rule = find("PrometheusRule", "sopilot-alerts");
const dashboard = find("ConfigMap", "sopilot-grafana-dashboard", "monitoring");
if (!api) fail("no Deployment sopilot-api");
if (!apiSvc) fail("no Service sopilot-api (kubectl port-forward svc/sopilot-api 8000:80 -n sopilot)");
if (!sm) fail("no ServiceMonitor sopilot in sopilot (kubectl get servicemonitor -n sopilot)");
if (!rule) fail("no PrometheusRule sopilot-alerts in sopilot (kubectl get prometheusrule sopilot-alerts -n sopilot)");
if (!dashboard) fail("no ConfigMap sopilot-grafana-dashboard in monitoring");
else {
  if (dashboard.metadata.labels?.grafana_dashboard !== "1") fail('the dashboard ConfigMap needs the label grafana_dashboard: "1"');
  const file = fs.readFileSync(path.join(root, "monitoring/grafana-dashboard.json"), "utf8");
  if (Object.values(dashboard.data ?? {})[0] !== file) fail("the dashboard ConfigMap is not monitoring/grafana-dashboard.json");
}
if (rule && sm) {
  const r1 = rule.metadata.labels?.release, r2 = sm.metadata.labels?.release;
  if (!r1 || r1 !== r2) fail(`the PrometheusRule's release label (${r1}) and the ServiceMonitor's (${r2}) must be set and equal`);
}

// A container port by name or number in a workload.
function containerPort(workload, target) {
  for (const c of podsOf(workload)?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === target || p.containerPort === target) return p.containerPort;
    }
  }
  return undefined;
}
const workloadsBehind = (svc) => workloads.filter((w) => matches(svc.spec?.selector, w.spec?.template?.metadata?.labels));

// Services: selectors find pods; every port's target exists in them.
for (const svc of all("Service")) {
  const behind = workloadsBehind(svc);
  if (behind.length === 0) fail(`${id(svc)} selects no pods of this overlay`);
  for (const p of svc.spec?.ports ?? []) {
    for (const w of behind) {
      if (containerPort(w, p.targetPort ?? p.port) === undefined) {
        fail(`${id(svc)} port ${p.name} targets ${p.targetPort}, which ${id(w)} has no container port for`);
      }
    }
  }
}
if (apiSvc && api) {
  const http = apiSvc.spec.ports?.find((p) => p.name === "http");
  if (!http || http.port !== 80 || containerPort(api, http.targetPort) !== 8000) {
    fail("Service sopilot-api needs port http 80 -> the API's container port 8000");
  }
  if (!apiSvc.spec.ports?.some((p) => p.name === "metrics")) fail("Service sopilot-api needs a port named metrics");
}

// The ServiceMonitor against the Services.
if (sm) {
  const nsNames = sm.spec.namespaceSelector?.matchNames ?? [sm.metadata.namespace];
  const selected = all("Service").filter(
    (s) => nsNames.includes(s.metadata.namespace) && matches(sm.spec.selector?.matchLabels, s.metadata.labels));
  const endpointPorts = (sm.spec.endpoints ?? []).map((e) => e.port);
  if (!selected.some((s) => s.metadata.name === "sopilot-api")) {
    fail(`the ServiceMonitor's selector ${JSON.stringify(sm.spec.selector)} does not select Service sopilot-api`);
  }
  for (const ep of endpointPorts) {
    if (!selected.some((s) => s.spec.ports?.some((p) => p.name === ep))) {
      fail(`the ServiceMonitor scrapes port ${ep}, which no Service it selects has`);
    }
  }
  for (const s of selected) {
    const scraped = (s.spec.ports ?? []).filter((p) => endpointPorts.includes(p.name));
    if (scraped.length === 0) fail(`the ServiceMonitor selects ${id(s)} but scrapes none of its ports`);
    if (scraped.length > 1) fail(`the ServiceMonitor scrapes ${id(s)} on ${scraped.length} ports: its pods twice`);
    for (const w of workloadsBehind(s)) {
      if (![api?.metadata.name, "sopilot-worker"].includes(w.metadata.name)) {
        fail(`the ServiceMonitor selects ${id(s)}, whose pods (${id(w)}) serve no SOPilot metrics`);
      }
    }
  }
  if (sm.spec.jobLabel !== "app.kubernetes.io/name" || selected.some((s) => s.metadata.labels?.["app.kubernetes.io/name"] !== "sopilot")) {
    fail('every scraped Service must give job="sopilot" (APIDown watches up{job="sopilot"})');
  }
}

// Probes.
const httpProbe = (p) => p?.httpGet && { path: p.httpGet.path, port: p.httpGet.port };
if (api) {
  const c = containerOf(api);
  if (httpProbe(c?.livenessProbe)?.path !== "/health") fail("sopilot-api: liveness must be GET /health");
  if (httpProbe(c?.readinessProbe)?.path !== "/ready") fail("sopilot-api: readiness must be GET /ready");
  for (const p of [c?.livenessProbe, c?.readinessProbe, c?.startupProbe]) {
    if (p?.httpGet && containerPort(api, p.httpGet.port) !== 8000) fail("sopilot-api: probes must use port 8000");
  }
  if (!(c?.args ?? []).includes("serve")) fail("sopilot-api must run `sopilot serve`");
  const cfg = envFromConfig(api);
  if (cfg.SOPILOT_PORT !== "8000" || cfg.SOPILOT_HOST !== "0.0.0.0") fail("sopilot-api: SOPILOT_HOST=0.0.0.0 and SOPILOT_PORT=8000");
  if (!envOf(api).SOPILOT_API_ROLE_TOKENS && !envOf(api).SOPILOT_API_TOKEN) {
    fail("sopilot-api: credentials (SOPILOT_API_ROLE_TOKENS): without them `sopilot serve` refuses 0.0.0.0");
  }
}
function envFromConfig(w) {
  const out = {};
  for (const ef of containerOf(w)?.envFrom ?? []) {
    const cm = ef.configMapRef && find("ConfigMap", ef.configMapRef.name, w.metadata.namespace);
    Object.assign(out, cm?.data ?? {});
  }
  return out;
}

// Security, resources, references, PDBs, for every workload.
const version = /project\(\s*sopilot\s+VERSION\s+([0-9.]+)/.exec(fs.readFileSync(path.join(root, "CMakeLists.txt"), "utf8"))?.[1];
for (const w of workloads) {
  const pod = podsOf(w);
  if (!matches(w.spec.selector?.matchLabels, pod ? w.spec.template.metadata?.labels : undefined)) {
    fail(`${id(w)}: its selector does not match its pods' labels`);
  }
  if (pod?.securityContext?.seccompProfile?.type !== "RuntimeDefault") fail(`${id(w)}: seccompProfile RuntimeDefault`);
  for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
    const sc = c.securityContext ?? {};
    const where = `${id(w)} container ${c.name}`;
    if (!(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot)) fail(`${where}: runAsNonRoot`);
    if ((sc.runAsUser ?? pod.securityContext?.runAsUser) === 0) fail(`${where}: runs as root`);
    if (sc.readOnlyRootFilesystem !== true) fail(`${where}: readOnlyRootFilesystem`);
    if (sc.allowPrivilegeEscalation !== false) fail(`${where}: allowPrivilegeEscalation: false`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) fail(`${where}: capabilities drop ALL`);
    if (!c.resources?.requests?.memory || !c.resources?.limits?.memory) fail(`${where}: memory request and limit`);
    if (!c.livenessProbe || !c.readinessProbe) fail(`${where}: liveness and readiness probes`);
    if (c.image?.split(":")[0].endsWith("/sopilot") || c.image === "sopilot" || c.image?.startsWith("sopilot:")) {
      if (c.image.split(":")[1] !== version) fail(`${where}: image ${c.image}, the project is ${version}`);
    }
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref && ref.name !== "sopilot-secrets") fail(`${where}: Secret ${ref.name}: deploy/k8s/README.md names only sopilot-secrets`);
      const cref = e.valueFrom?.configMapKeyRef;
      if (cref && !find("ConfigMap", cref.name, w.metadata.namespace)) fail(`${where}: no ConfigMap ${cref.name}`);
    }
    for (const ef of c.envFrom ?? []) {
      if (ef.configMapRef && !find("ConfigMap", ef.configMapRef.name, w.metadata.namespace)) fail(`${where}: no ConfigMap ${ef.configMapRef.name}`);
    }
  }
  for (const v of pod?.volumes ?? []) {
    if (v.configMap && !find("ConfigMap", v.configMap.name, w.metadata.namespace)) fail(`${id(w)}: no ConfigMap ${v.configMap.name}`);
    if (v.persistentVolumeClaim && !find("PersistentVolumeClaim", v.persistentVolumeClaim.claimName, w.metadata.namespace)) {
      fail(`${id(w)}: no PersistentVolumeClaim ${v.persistentVolumeClaim.claimName}`);
    }
  }
  const mounts = new Set((pod?.containers ?? []).flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
  const declared = new Set([...(pod?.volumes ?? []).map((v) => v.name), ...(w.spec.volumeClaimTemplates ?? []).map((t) => t.metadata.name)]);
  for (const m of mounts) if (!declared.has(m)) fail(`${id(w)}: mounts volume ${m}, which it does not declare`);
  if (!all("PodDisruptionBudget").some((p) => p.metadata.namespace === w.metadata.namespace && matches(p.spec.selector?.matchLabels, w.spec.template.metadata.labels))) {
    fail(`${id(w)}: no PodDisruptionBudget`);
  }
}
const netpols = all("NetworkPolicy");
if (!netpols.some((n) => Object.keys(n.spec.podSelector ?? {}).length === 0 && n.spec.policyTypes?.includes("Ingress") && !n.spec.ingress)) {
  fail("no default-deny ingress NetworkPolicy");
}
for (const w of workloads) {
  if (!netpols.some((n) => n.spec.ingress && matches(n.spec.podSelector?.matchLabels, w.spec.template.metadata.labels))) {
    fail(`${id(w)}: no NetworkPolicy lets anything in`);
  }
}

// ---- What each overlay promises.
const worker = find("Deployment", "sopilot-worker");
const redis = find("StatefulSet", "sopilot-redis");
const dataPvc = find("PersistentVolumeClaim", "sopilot-data");
const apiCfg = api ? envFromConfig(api) : {};
if (overlay === "single-node") {
  if (api?.spec.replicas !== 1 || api?.spec.strategy?.type !== "Recreate") fail("single-node: one API pod, strategy Recreate");
  if (apiCfg.SOPILOT_QUEUE_BACKEND !== "sqlite") fail("single-node: SOPILOT_QUEUE_BACKEND=sqlite");
  if (worker || redis || all("ScaledObject").length) fail("single-node: no workers, Redis or ScaledObject");
  if (JSON.stringify(dataPvc?.spec.accessModes) !== '["ReadWriteOnce"]') fail("single-node: the data PVC is ReadWriteOnce");
} else if (overlay === "scaled") {
  if (apiCfg.SOPILOT_QUEUE_BACKEND !== "redis") fail("scaled: SOPILOT_QUEUE_BACKEND=redis");
  if (JSON.stringify(dataPvc?.spec.accessModes) !== '["ReadWriteMany"]') fail("scaled: the data PVC is ReadWriteMany");
  if (!worker) fail("scaled: no Deployment sopilot-worker");
  else {
    const args = containerOf(worker).args ?? [];
    const flag = (n) => args.find((a) => a.startsWith(`--${n}=`))?.split("=")[1];
    if (args[0] !== "worker") fail("sopilot-worker must run `sopilot worker`");
    if (flag("metrics-host") !== "0.0.0.0") fail("sopilot-worker: --metrics-host=0.0.0.0 (else Prometheus cannot reach it)");
    const port = Number(flag("metrics-port"));
    if (containerPort(worker, "metrics") !== port) fail(`sopilot-worker: container port metrics must be --metrics-port (${port})`);
    if (httpProbe(containerOf(worker).readinessProbe)?.path !== "/health") fail("sopilot-worker: readiness GET /health");
    const svc = find("Service", "sopilot-worker");
    if (!svc?.spec.ports?.some((p) => p.name === "metrics" && containerPort(worker, p.targetPort) === port)) {
      fail("scaled: Service sopilot-worker needs port metrics -> the worker's --metrics-port");
    }
    for (const w of [api, worker]) {
      const url = envOf(w).SOPILOT_REDIS_URL?.value ?? "";
      if (!url.includes("@sopilot-redis:6379")) fail(`${id(w)}: SOPILOT_REDIS_URL must point at sopilot-redis:6379 (${url})`);
      if (!envOf(w).SOPILOT_DATABASE_URL?.value?.includes("@sopilot-postgresql:5432/")) fail(`${id(w)}: SOPILOT_DATABASE_URL -> sopilot-postgresql`);
    }
  }
  const so = all("ScaledObject");
  if (so.length !== 1 || so[0].spec.scaleTargetRef?.name !== "sopilot-worker" ||
      !so[0].spec.triggers?.some((t) => t.type === "prometheus" && /\bsopilot_queue_depth\b/.test(t.metadata?.query ?? ""))) {
    fail("scaled: a ScaledObject scaling sopilot-worker on sopilot_queue_depth");
  }
  if (!redis) fail("scaled: no StatefulSet sopilot-redis");
  else {
    const confVol = podsOf(redis).volumes?.find((v) => v.configMap);
    const cm = confVol && find("ConfigMap", confVol.configMap.name);
    const file = fs.readFileSync(path.join(root, "deploy/redis.conf"), "utf8");
    if (cm?.data?.["redis.conf"] !== file) fail("scaled: Redis must mount deploy/redis.conf as it is");
    const cmd = containerOf(redis).command ?? [];
    if (!cmd.includes("/etc/redis/redis.conf") || !/^appendonly yes$/m.test(file) || !/^maxmemory-policy noeviction$/m.test(file)) {
      fail("scaled: Redis runs deploy/redis.conf (AOF, noeviction)");
    }
    if (!(redis.spec.volumeClaimTemplates ?? []).length) fail("scaled: Redis keeps its AOF on a PVC");
  }
  if (!find("StatefulSet", "sopilot-postgresql") || !find("Service", "sopilot-postgresql")) fail("scaled: PostgreSQL StatefulSet and Service");
}

if (problems.length) {
  for (const p of problems) console.error(`validate: ${p}`);
  console.error(`validate: ${overlay}: FAILED (${problems.length} problems)`);
  process.exit(1);
}
const kinds = {};
for (const o of objects) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
console.log(`validate: ${overlay}: ${objects.length} objects valid (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ")})`);
