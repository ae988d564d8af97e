/**
 * The permission-set catalogue the emulator knows (`GET /iam/v1alpha1/permission-sets`).
 * Names, scope types and categories follow the platform's public reference;
 * ids are fixed here (the platform's own ids are not public).
 */

/** `iam/v1alpha1` PermissionSet. */
export interface PermissionSetDoc {
  id: string
  name: string
  scope_type: 'projects' | 'organization'
  description: string
  categories: string[]
}

/** The catalogue, in name order. */
export const PERMISSION_SETS: readonly PermissionSetDoc[] = [
  { id: '3273c199-9b4c-42ff-9284-66b26a6f562f', name: 'AllProductsFullAccess', scope_type: 'projects', description: 'Full access to all products in a Project', categories: ['Global'] },
  { id: '74bd52af-4407-46ca-bbce-81c774e27553', name: 'ContainersFullAccess', scope_type: 'projects', description: 'Full access to Serverless Containers', categories: ['Serverless'] },
  { id: '09121e10-de32-4495-a2fe-fa820ca92890', name: 'ContainersPrivateAccess', scope_type: 'projects', description: 'Invoke private Serverless Containers', categories: ['Serverless'] },
  { id: '605a974e-eade-4b88-a732-0205cac971cb', name: 'ContainersReadOnly', scope_type: 'projects', description: 'Read access to Serverless Containers', categories: ['Serverless'] },
  { id: '0b8a41ce-a958-49dc-ba85-2ba1724f7817', name: 'FunctionsFullAccess', scope_type: 'projects', description: 'Full access to Serverless Functions', categories: ['Serverless'] },
  { id: '77342116-b1df-466a-a0c8-e8d101c334a3', name: 'FunctionsPrivateAccess', scope_type: 'projects', description: 'Invoke private Serverless Functions', categories: ['Serverless'] },
  { id: '04a35cac-5bb3-4043-8edf-a22f5569ab95', name: 'FunctionsReadOnly', scope_type: 'projects', description: 'Read access to Serverless Functions', categories: ['Serverless'] },
  { id: '2f0e71b2-cdbc-4fde-956e-af8ae6e88f4e', name: 'IAMManager', scope_type: 'organization', description: 'Full access to IAM: users, applications, groups, policies and API keys', categories: ['Security & Identity'] },
  { id: 'a9efc469-fe48-4b4d-8292-403c54273d06', name: 'IAMReadOnly', scope_type: 'organization', description: 'Read access to IAM', categories: ['Security & Identity'] },
  { id: '239edcfb-5ade-4df6-9504-11264d0ec747', name: 'ObjectStorageFullAccess', scope_type: 'projects', description: 'Full access to Object Storage', categories: ['Storage'] },
  { id: '40a55784-e477-43bd-bbb9-f8f09240857d', name: 'OrganizationManager', scope_type: 'organization', description: 'Full access to the Organization features', categories: ['Organization'] },
  { id: 'c96e6240-e2a4-4769-b906-9db3bb11bf20', name: 'ProjectManager', scope_type: 'organization', description: 'Full access to Projects', categories: ['Organization'] },
]

const BY_NAME = new Map(PERMISSION_SETS.map((set) => [set.name, set]))

/** The permission set of this name, or undefined. */
export function permissionSetNamed(name: string): PermissionSetDoc | undefined {
  return BY_NAME.get(name)
}

/**
 * What each management call needs, and what a private resource needs at the
 * platform. `AllProductsFullAccess` covers the serverless products, not IAM.
 */
export const REQUIRED_SETS = {
  iamRead: ['IAMManager', 'IAMReadOnly'],
  iamWrite: ['IAMManager'],
  functionsRead: ['FunctionsFullAccess', 'FunctionsReadOnly', 'AllProductsFullAccess'],
  functionsWrite: ['FunctionsFullAccess', 'AllProductsFullAccess'],
  containersRead: ['ContainersFullAccess', 'ContainersReadOnly', 'AllProductsFullAccess'],
  containersWrite: ['ContainersFullAccess', 'AllProductsFullAccess'],
  functionsInvoke: ['FunctionsPrivateAccess'],
  containersInvoke: ['ContainersPrivateAccess'],
} as const satisfies Record<string, readonly string[]>
