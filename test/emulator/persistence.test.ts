import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { expect, it } from 'vitest'
import { EMULATOR_INSTANCE } from '../../src/emulator/config.js'
import { BASE, call, IAM, ok, unique } from './support.js'

const stub = () => env.EMULATOR.get(env.EMULATOR.idFromName(EMULATOR_INSTANCE))

it('keeps state in the Durable Object’s SQLite across new stubs and a restart', async () => {
  const name = unique('persisted')
  const created = await ok<{ id: string }>('POST', `${IAM}/applications`, { body: { name } })

  // A fresh stub, straight to the object (not through the Worker).
  const res = await stub().fetch(new Request(`${IAM}/applications/${created.id}`, { headers: { 'x-auth-token': env.EMULATOR_ADMIN_SECRET } }))
  expect(res.status).toBe(200)
  expect(await res.json()).toMatchObject({ id: created.id, name })

  // Every instance dropped, as a restart drops them: the row is read back from SQLite.
  await abortAllDurableObjects()
  const after = await call<{ name: string }>('GET', `${IAM}/applications/${created.id}`)
  expect(after.status).toBe(200)
  expect(after.body.name).toBe(name)

  const row = await runInDurableObject(stub(), (_instance, state) =>
    state.storage.sql.exec<{ doc: string }>('SELECT doc FROM applications WHERE id = ?', created.id).one(),
  )
  expect(JSON.parse(row.doc)).toMatchObject({ id: created.id, name })
})

it('seeds the owner once, not on every start', async () => {
  await abortAllDurableObjects()
  const users = await ok<{ users: { type: string }[] }>('GET', `${IAM}/users?type=owner`)
  expect(users.users).toHaveLength(1)
  const info = await ok<{ organization_id: string }>('GET', `${BASE}/emulator/info`)
  expect(users.users[0]).toMatchObject({ type: 'owner', organization_id: info.organization_id, deletable: false })
})
