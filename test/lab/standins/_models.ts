// The kubernetes-models classes behind the kubectl stand-in's schema validation, by
// group/kind/version. Loaded on demand (loadModels in _schema.ts): they are most of the bundle.
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Endpoints } from 'kubernetes-models/v1/Endpoints'
import { Event } from 'kubernetes-models/v1/Event'
import { LimitRange } from 'kubernetes-models/v1/LimitRange'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { Node } from 'kubernetes-models/v1/Node'
import { PersistentVolume } from 'kubernetes-models/v1/PersistentVolume'
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim'
import { Pod } from 'kubernetes-models/v1/Pod'
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import { ControllerRevision } from 'kubernetes-models/apps/v1/ControllerRevision'
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet'
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet'
import { CronJob } from 'kubernetes-models/batch/v1/CronJob'
import { Job } from 'kubernetes-models/batch/v1/Job'
import { HorizontalPodAutoscaler as HPAv1 } from 'kubernetes-models/autoscaling/v1/HorizontalPodAutoscaler'
import { HorizontalPodAutoscaler as HPAv2 } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole'
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding'
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role'
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress'
import { IngressClass } from 'kubernetes-models/networking.k8s.io/v1/IngressClass'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import { CSIDriver } from 'kubernetes-models/storage.k8s.io/v1/CSIDriver'
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass'
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass'
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration'
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration'
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition'
import { APIService } from 'kubernetes-models/apiregistration.k8s.io/v1/APIService'
import { Lease } from 'kubernetes-models/coordination.k8s.io/v1/Lease'
import { EndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice'
import { RuntimeClass } from 'kubernetes-models/node.k8s.io/v1/RuntimeClass'
import { CertificateSigningRequest } from 'kubernetes-models/certificates.k8s.io/v1/CertificateSigningRequest'

type ModelClass = { prototype: { validate(): void } }

export const MODELS: Record<string, ModelClass> = {
  '/Namespace/v1': Namespace,
  '/Node/v1': Node,
  '/Pod/v1': Pod,
  '/Service/v1': Service,
  '/ConfigMap/v1': ConfigMap,
  '/Secret/v1': Secret,
  '/ServiceAccount/v1': ServiceAccount,
  '/Endpoints/v1': Endpoints,
  '/Event/v1': Event,
  '/LimitRange/v1': LimitRange,
  '/ResourceQuota/v1': ResourceQuota,
  '/PersistentVolume/v1': PersistentVolume,
  '/PersistentVolumeClaim/v1': PersistentVolumeClaim,
  'apps/Deployment/v1': Deployment,
  'apps/DaemonSet/v1': DaemonSet,
  'apps/ReplicaSet/v1': ReplicaSet,
  'apps/StatefulSet/v1': StatefulSet,
  'apps/ControllerRevision/v1': ControllerRevision,
  'batch/Job/v1': Job,
  'batch/CronJob/v1': CronJob,
  'autoscaling/HorizontalPodAutoscaler/v2': HPAv2,
  'autoscaling/HorizontalPodAutoscaler/v1': HPAv1,
  'rbac.authorization.k8s.io/ClusterRole/v1': ClusterRole,
  'rbac.authorization.k8s.io/ClusterRoleBinding/v1': ClusterRoleBinding,
  'rbac.authorization.k8s.io/Role/v1': Role,
  'rbac.authorization.k8s.io/RoleBinding/v1': RoleBinding,
  'policy/PodDisruptionBudget/v1': PodDisruptionBudget,
  'networking.k8s.io/Ingress/v1': Ingress,
  'networking.k8s.io/IngressClass/v1': IngressClass,
  'networking.k8s.io/NetworkPolicy/v1': NetworkPolicy,
  'storage.k8s.io/StorageClass/v1': StorageClass,
  'storage.k8s.io/CSIDriver/v1': CSIDriver,
  'scheduling.k8s.io/PriorityClass/v1': PriorityClass,
  'admissionregistration.k8s.io/MutatingWebhookConfiguration/v1': MutatingWebhookConfiguration,
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration/v1': ValidatingWebhookConfiguration,
  'apiextensions.k8s.io/CustomResourceDefinition/v1': CustomResourceDefinition,
  'apiregistration.k8s.io/APIService/v1': APIService,
  'coordination.k8s.io/Lease/v1': Lease,
  'discovery.k8s.io/EndpointSlice/v1': EndpointSlice,
  'node.k8s.io/RuntimeClass/v1': RuntimeClass,
  'certificates.k8s.io/CertificateSigningRequest/v1': CertificateSigningRequest,
}
