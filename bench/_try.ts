import { labInfo } from '../test/lab/lab.ts'
import { writeAnsibleFiles } from './ansible.ts'
const lab = labInfo()!
const f = writeAnsibleFiles('/tmp/zxb-ans', lab, '/home/zxlab/bench-ansible')
console.log(JSON.stringify(f))
