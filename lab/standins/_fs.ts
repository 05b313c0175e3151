// Every absolute path a stand-in touches goes through p(): in the lab
// ZXLAB_FS_ROOT is unset and p('/etc/kubernetes') is the host's own (bind-mounted)
// /etc/kubernetes; unit tests point ZXLAB_FS_ROOT at a temp folder.
import path from 'node:path'

export const root = () => process.env.ZXLAB_FS_ROOT ?? '/'
export const p = (abs: string) => path.join(root(), abs)
