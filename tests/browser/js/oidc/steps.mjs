// The test's side of a client script: JSON lines on stdout, the browser's answer on stdin.
import { createInterface } from 'node:readline'

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()

export function say(message) {
  process.stdout.write(JSON.stringify(message) + '\n')
}

export async function ask(message) {
  say(message)
  const { value } = await lines.next()
  return value
}

// What a failed call tells a client: the error code, and the WWW-Authenticate challenge.
export function failure(error) {
  return {
    code: error.code,
    error: error.error ?? null,
    status: error.status ?? null,
    challenges: (error.cause instanceof Array ? error.cause : []).map((c) => ({
      scheme: c.scheme,
      error: c.parameters?.error ?? null,
      description: c.parameters?.error_description ?? null,
    })),
  }
}

export async function refused(call) {
  try {
    await call()
  } catch (error) {
    return failure(error)
  }
  return null
}

export function done(result) {
  say({ result })
  process.exit(0)
}
