// The task command's cases (test/unit/_transports.ts) over the persistent shell.
import { transportSuite } from './_transports.ts'

transportSuite(true)
