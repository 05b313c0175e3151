// The stand-in API's admission (lab/standins/_schema.ts, _openapi.ts): every object the
// playbooks apply passes the API server's own OpenAPI documents (../shared/reference/openapi-1.35,
// read in place) and its server-side rules; each rule refuses a bad object with the real
// server's message; a CRD's openAPIV3Schema validates its custom resources.
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { load, loadAll } from 'js-yaml'
import { parseFlags } from '../../../lib/cli/args.ts'
import { renderFor } from '../../../lib/cli/cli.ts'
import { sessionSecret } from '../../../playbooks/support/session-token.ts'
import { fakeLab, initCluster, run } from '../_k8s-testlab.ts'
import { admission, customKinds, refusal } from '../_schema.ts'
import type { KindInfo } from '../_schema.ts'
import { loadedDocs } from '../_openapi.ts'
import type { Obj } from '../_k8s-util.ts'

const REPO = path.resolve(import.meta.dirname, '../../..')

/** Every object of every Kubernetes manifest in templates/ (kubeadm's config is kubeadm's), as `zxplay render` renders it for the playbook that applies it. */
async function playbookObjects(): Promise<{ template: string; obj: Obj }[]> {
  const templates = fs
    .readdirSync(path.join(REPO, 'templates'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml') && !f.startsWith('kubeadm'))
    .sort()
  assert.equal(templates, ['flannel/kube-flannel.yaml', 'metrics-server/components.yaml', 'ray/autoscaler.yaml', 'ray/namespace.yaml', 'ray/ray-cluster.yaml'])
  const { flags } = parseFlags(['-i', path.join(REPO, 'inventory.yaml'), '-e', 'advertise_address=192.0.2.10'])
  const out: { template: string; obj: Obj }[] = []
  for (const template of templates) {
    for (const obj of loadAll(await renderFor(template, 'localhost', flags))) if (obj) out.push({ template, obj: obj as Obj })
  }
  return out
}

const DEPLOY = () =>
  load(`apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ray }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports: [{ name: http, containerPort: 80 }]
          readinessProbe: { httpGet: { path: /, port: http } }
          resources: { requests: { cpu: 100m } }
`) as any

const SERVICE = () => load('apiVersion: v1\nkind: Service\nmetadata: { name: web, namespace: ray }\nspec:\n  selector: { app: web }\n  ports: [{ port: 80, targetPort: http }]\n') as any

test('every object the playbooks apply (flannel, metrics-server, Ray) passes, and so do the session Secret and the demo ConfigMap', async () => {
  const objs = await playbookObjects()
  assert.ok(objs.length >= 20, `${objs.length} objects`)
  for (const { template, obj } of objs) assert.is(refusal(obj), undefined, `${template}: ${String(obj.kind)}/${String((obj.metadata as Obj).name)}`)
  const secret = sessionSecret({ accessKeyId: 'ASIAEXAMPLEEXAMPLE00', secretAccessKey: 's'.repeat(40), sessionToken: 't'.repeat(200), expiration: new Date('2026-11-25T22:00:00Z') }, 'ray')
  assert.is(refusal(secret as Obj), undefined)
  const { appConfigMap } = await import('../../../playbooks/support/demo.ts')
  assert.is(refusal(load(appConfigMap('ray', { 'app.py': 'print(1)\n' })) as Obj), undefined)
})

test('the documents load lazily, one group-version at a time', () => {
  // a fresh process would start empty; here: checking a Namespace needs only the core document
  const before = new Set(loadedDocs())
  refusal({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p', namespace: 'ray' }, spec: { maxUnavailable: 1 } })
  const added = loadedDocs().filter((d) => !before.has(d))
  assert.ok(added.every((d) => d === 'policy/v1' || d === '/v1'), added.join(' '))
})

test('strict decoding: unknown fields, at any depth, as the API server names them', () => {
  const d = DEPLOY()
  d.spec.template.spec.containers[0].imagePullPolicyy = 'Always'
  d.spec.bogus = 1
  assert.is(
    refusal(d, 'web.yaml'),
    'Error from server (BadRequest): error when creating "web.yaml": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy", unknown field "spec.bogus"'
  )
  // (in the order the decoder meets them: spec.bogus comes after spec.template)
  // an HPA v1 field in autoscaling/v2
  const hpa = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h', namespace: 'ray' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 50 } }
  assert.match(refusal(hpa)!, 'HorizontalPodAutoscaler in version "v2" cannot be handled as a HorizontalPodAutoscaler: strict decoding error: unknown field "spec.targetCPUUtilizationPercentage"')
  // --validate=warn: admitted, with a warning
  const w = admission(customOrBuiltin(d), 'v1', d, { verbing: 'creating', source: 'STDIN', validation: 'warn' })
  assert.is(w.error, undefined)
  assert.equal(w.warnings, ['Warning: unknown field "spec.template.spec.containers[0].imagePullPolicyy"\n', 'Warning: unknown field "spec.bogus"\n'])
})

const customOrBuiltin = (o: Obj): KindInfo => ({ group: 'apps', versions: ['v1'], kind: String(o.kind), plural: 'deployments', singular: 'deployment', short: [], namespaced: true })

test('types: a value of the wrong type is a decode error naming the Go struct field', () => {
  let d = DEPLOY()
  d.spec.replicas = 'two'
  assert.match(refusal(d)!, 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32')
  d = DEPLOY()
  d.spec.template.spec.containers[0].env = [{ name: 'N', value: 1 }]
  assert.match(refusal(d)!, 'json: cannot unmarshal number into Go struct field EnvVar.spec.template.spec.containers.env.value of type string')
  d = DEPLOY()
  d.spec.replicas = 3000000000
  assert.match(refusal(d)!, 'json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32')
  d = DEPLOY()
  d.spec.template.spec.containers = { name: 'web' }
  assert.match(refusal(d)!, 'json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container')
})

test('required fields, int-or-string, quantities and base64 bytes', () => {
  let d = DEPLOY()
  delete d.spec.template.spec.containers[0].name
  assert.is(refusal(d), 'The Deployment "web" is invalid: spec.template.spec.containers[0].name: Required value')
  d = DEPLOY()
  delete d.spec.selector
  assert.match(refusal(d)!, 'spec.selector: Required value')
  const svc = SERVICE()
  svc.spec.ports[0].targetPort = 8080
  assert.is(refusal(svc), undefined)
  svc.spec.ports[0].targetPort = true
  assert.match(refusal(svc)!, 'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32')
  d = DEPLOY()
  d.spec.template.spec.containers[0].resources.requests.cpu = 'lots'
  assert.match(refusal(d)!, `Deployment in version "v1" cannot be handled as a Deployment: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`)
  d.spec.template.spec.containers[0].resources.requests.cpu = 0.5
  assert.is(refusal(d), undefined)
  d.spec.template.spec.containers[0].resources = { requests: { memory: '192i' } }
  assert.match(refusal(d)!, "cannot be handled as a Deployment: unable to parse quantity's suffix")
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ray' }, data: { key: 'not base64!' } }
  assert.match(refusal(secret)!, 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3')
})

test('server-side rules: selector vs template labels, port names, names per kind, enums', () => {
  let d = DEPLOY()
  d.spec.selector.matchLabels.app = 'other'
  assert.is(refusal(d), 'The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`')
  d = DEPLOY()
  d.spec.template.spec.containers[0].readinessProbe.httpGet.port = 'metrics-https-port'
  assert.is(refusal(d), 'The Deployment "web" is invalid: spec.template.spec.containers[0].readinessProbe.httpGet.port: Invalid value: "metrics-https-port": must be no more than 15 characters')
  // the API server does not look a named port up in the container (the kubelet does, at run time)
  d.spec.template.spec.containers[0].readinessProbe.httpGet.port = 'undeclared'
  assert.is(refusal(d), undefined)
  const svc = SERVICE()
  svc.spec.ports[0].targetPort = 'Web_Port'
  assert.is(refusal(svc), 'The Service "web" is invalid: spec.ports[0].targetPort: Invalid value: Web_Port: must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')
  svc.spec.ports[0].targetPort = '-8080'
  assert.is(refusal(svc), 'The Service "web" is invalid: [spec.ports[0].targetPort: Invalid value: -8080: must contain at least one letter (a-z), spec.ports[0].targetPort: Invalid value: -8080: must not begin or end with a hyphen]')
  svc.spec.ports[0].targetPort = 'http'
  svc.metadata.name = '1web'
  assert.is(
    refusal(svc),
    `The Service "1web" is invalid: metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`
  )
  d = DEPLOY()
  d.metadata.name = '1web.v2' // a Deployment's name is a DNS-1123 subdomain
  assert.is(refusal(d), undefined)
  assert.match(refusal({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ray.io' } })!, 'The Namespace "ray.io" is invalid: metadata.name: Invalid value: "ray.io": a lowercase RFC 1123 label must consist of')
  d = DEPLOY()
  d.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes'
  assert.is(refusal(d), 'The Deployment "web" is invalid: spec.template.spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"')
})

// A CRD shaped like KubeRay's RayCluster (a hand-written subset: no copy of KubeRay's CRD is at hand)
const CRD = load(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: rayclusters.ray.io }
spec:
  group: ray.io
  names: { kind: RayCluster, plural: rayclusters, singular: raycluster, listKind: RayClusterList }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [headGroupSpec]
              properties:
                rayVersion: { type: string, pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' }
                enableInTreeAutoscaling: { type: boolean }
                upscalingMode: { type: string, enum: [Default, Aggressive, Conservative] }
                headGroupSpec:
                  type: object
                  required: [template]
                  properties:
                    rayStartParams: { type: object, additionalProperties: { type: string } }
                    serviceType: { type: string }
                    template: { type: object, x-kubernetes-preserve-unknown-fields: true }
                workerGroupSpecs:
                  type: array
                  items:
                    type: object
                    properties:
                      groupName: { type: string }
                      replicas: { type: integer, format: int32, minimum: 0 }
                      idleTimeout: { x-kubernetes-int-or-string: true }
                      template: { type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true }
            status: { type: object, x-kubernetes-preserve-unknown-fields: true }
`) as Obj

const RC = () =>
  load(`apiVersion: ray.io/v1
kind: RayCluster
metadata: { name: rc, namespace: ray }
spec:
  rayVersion: "2.52.0"
  headGroupSpec:
    rayStartParams: { dashboard-host: "0.0.0.0" }
    template: { spec: { containers: [{ name: ray-head, image: "rayproject/ray:2.52.0" }] } }
  workerGroupSpecs:
    - groupName: workers
      replicas: 1
      idleTimeout: 60
      template: { apiVersion: v1, kind: PodTemplate, metadata: { name: w }, anything: { goes: here } }
`) as any

const crVerdict = (cr: Obj) => {
  const info = customKinds([CRD])[0]!
  return admission(info, 'v1', cr, { verbing: 'creating', source: 'rc.yaml' }).error?.message
}

test("a CRD's openAPIV3Schema validates its custom resources", () => {
  assert.is(crVerdict(RC()), undefined)
  let rc = RC()
  rc.spec.foo = 1
  assert.is(crVerdict(rc), 'error when creating "rc.yaml": RayCluster in version "v1" cannot be handled as a RayCluster: strict decoding error: unknown field "spec.foo"')
  rc = RC()
  rc.spec.workerGroupSpecs[0].replicas = 'one'
  assert.is(crVerdict(rc), 'The RayCluster "rc" is invalid: spec.workerGroupSpecs[0].replicas: Invalid value: "string": spec.workerGroupSpecs[0].replicas in body must be of type integer: "string"')
  rc = RC()
  rc.spec.workerGroupSpecs[0].replicas = -1
  assert.is(crVerdict(rc), 'The RayCluster "rc" is invalid: spec.workerGroupSpecs[0].replicas: Invalid value: -1: spec.workerGroupSpecs[0].replicas in body should be greater than or equal to 0')
  rc = RC()
  delete rc.spec.headGroupSpec
  assert.is(crVerdict(rc), 'The RayCluster "rc" is invalid: spec.headGroupSpec: Required value')
  rc = RC()
  rc.spec.upscalingMode = 'Fast'
  assert.is(crVerdict(rc), 'The RayCluster "rc" is invalid: spec.upscalingMode: Unsupported value: "Fast": supported values: "Default", "Aggressive", "Conservative"')
  rc = RC()
  rc.spec.rayVersion = 'latest'
  assert.match(crVerdict(rc)!, `spec.rayVersion: Invalid value: "latest": spec.rayVersion in body should match '^[0-9]+\\.[0-9]+\\.[0-9]+$'`)
  // x-kubernetes-int-or-string
  rc = RC()
  rc.spec.workerGroupSpecs[0].idleTimeout = '60s'
  assert.is(crVerdict(rc), undefined)
  rc.spec.workerGroupSpecs[0].idleTimeout = true
  assert.match(crVerdict(rc)!, 'spec.workerGroupSpecs[0].idleTimeout in body must be of type integer,string: "boolean"')
  // x-kubernetes-embedded-resource: apiVersion and kind must be there
  rc = RC()
  delete rc.spec.workerGroupSpecs[0].template.kind
  assert.is(crVerdict(rc), 'The RayCluster "rc" is invalid: spec.workerGroupSpecs[0].template.kind: Required value: must not be empty')
  // additionalProperties: a map of strings
  rc = RC()
  rc.spec.headGroupSpec.rayStartParams['num-cpus'] = 1
  assert.match(crVerdict(rc)!, 'spec.headGroupSpec.rayStartParams[num-cpus] in body must be of type string: "integer"')
  // the custom resource's metadata is an ObjectMeta, strictly
  rc = RC()
  rc.metadata.lables = { a: 'b' }
  assert.match(crVerdict(rc)!, 'strict decoding error: unknown field "metadata.lables"')
})

test('the CRD itself is checked against JSONSchemaProps, x-kubernetes-* included', () => {
  assert.is(refusal(CRD), undefined)
  const bad = JSON.parse(JSON.stringify(CRD)) as any
  bad.spec.versions[0].schema.openAPIV3Schema.properties.spec['x-kubernetes-preserve-unknown-field'] = true
  assert.match(refusal(bad)!, 'strict decoding error: unknown field "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-preserve-unknown-field"')
})

test('kubectl apply: a custom resource its CRD refuses; kubeadm init writes only objects the API server admits', async () => {
  const lab = fakeLab(1)
  try {
    const r0 = await initCluster(lab)
    assert.is(r0.code, 0, r0.err)
    const kubectl = (stdin: string) => run(lab, 'node1', 'kubectl', ['apply', '-f', '-'], { stdin })
    let r = await kubectl(`${JSON.stringify(CRD)}\n---\n{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ray"}}\n`)
    assert.is(r.code, 0, r.err)
    const rc = RC()
    rc.spec.workerGroupSpecs[0].replicas = 'one'
    r = await kubectl(JSON.stringify(rc))
    assert.is(r.code, 1)
    assert.is(r.err, 'The RayCluster "rc" is invalid: spec.workerGroupSpecs[0].replicas: Invalid value: "string": spec.workerGroupSpecs[0].replicas in body must be of type integer: "string"\n')
    r = await kubectl(JSON.stringify(RC()))
    assert.is(r.out, 'raycluster.ray.io/rc created\n', r.err)
  } finally {
    lab.remove()
  }
})

test.run()
