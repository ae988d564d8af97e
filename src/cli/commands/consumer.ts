/** `edgegw consumer add|ls|rm`: who consumer JWTs stand for (Kong's consumers). */
import type { Command } from 'commander'
import { confirmed } from '../lib/confirm.js'
import { contextOf } from '../lib/context.js'
import { collect, examples, seg } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import { syncUnlessSkipped } from '../lib/sync.js'
import type { Column } from '../lib/table.js'
import type { ConsumerJson } from '../lib/wire.js'

/** The columns of `consumer ls` and `consumer add`: scwgw's USERNAME, then what Kong adds. */
export const CONSUMER_COLUMNS: Column<ConsumerJson>[] = [
  { header: 'USERNAME', value: (c) => c.username },
  { header: 'ID', value: (c) => c.id },
  { header: 'CUSTOM ID', value: (c) => c.custom_id },
  { header: 'GROUPS', value: (c) => c.groups.join(',') },
]

/** Registers `consumer` and its subcommands. */
export function registerConsumer(program: Command, io: Io): void {
  const consumer = program
    .command('consumer')
    .description('Manage consumers: the applications consumer JWTs stand for')
    .addHelpText('after', examples('edgegw consumer add my-app', 'edgegw consumer add billing --custom-id crm-42 --group staff --group ops', 'edgegw consumer ls', 'edgegw consumer rm my-app --yes'))

  consumer
    .command('add')
    .description('Add a consumer')
    .argument('<username>', 'unique, 1–128 characters')
    .option('--custom-id <id>', 'your own unique id for it (Kong\'s custom_id)')
    .option('--group <group>', 'an ACL group it belongs to (repeatable)', collect)
    .option('--no-sync', 'return without waiting for the sync')
    .addHelpText('after', examples('edgegw consumer add my-app', 'edgegw consumer add billing --custom-id crm-42 --group staff,ops'))
    .action(async (username: string, options: { customId?: string; group?: string[]; sync?: boolean }, command: Command) => {
      const ctx = contextOf(command, io)
      const { body } = await ctx.client.call<ConsumerJson>('POST', '/consumers', {
        body: { username, ...(options.customId ? { custom_id: options.customId } : {}), ...(options.group ? { groups: options.group } : {}) },
      })
      await syncUnlessSkipped(ctx, options)
      if (ctx.out.json) return ctx.out.writeJson(body)
      ctx.out.table(CONSUMER_COLUMNS, [body], '')
    })

  consumer
    .command('ls')
    .description('List the consumers')
    .addHelpText('after', examples('edgegw consumer ls', "edgegw consumer ls --json | jq -r '.[].username'"))
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextOf(command, io)
      const consumers: ConsumerJson[] = []
      const progress = ctx.out.progress('listing consumers')
      let offset: string | null = null
      try {
        do {
          const { body }: { body: { data: ConsumerJson[]; offset: string | null } } = await ctx.client.call('GET', '/consumers', { query: { size: 1000, ...(offset ? { offset } : {}) } })
          consumers.push(...body.data)
          progress.update(consumers.length)
          offset = body.offset
        } while (offset)
      } finally {
        progress.end()
      }
      consumers.sort((a, b) => a.username.localeCompare(b.username))
      if (ctx.out.json) return ctx.out.writeJson(consumers)
      ctx.out.table(CONSUMER_COLUMNS, consumers, 'No consumers yet: edgegw consumer add <username>')
    })

  consumer
    .command('rm')
    .description('Remove a consumer and every JWT credential it has')
    .argument('<consumer>', 'its username or id')
    .option('-y, --yes', 'do not ask for confirmation (needed when not in a terminal)')
    .option('--no-sync', 'return without waiting for the sync')
    .addHelpText('after', examples('edgegw consumer rm my-app', 'edgegw consumer rm my-app --yes'))
    .action(async (name: string, options: { yes?: boolean; sync?: boolean }, command: Command) => {
      const ctx = contextOf(command, io)
      if (!(await confirmed(io, `Remove consumer ${name} and all its JWT credentials?`, options.yes))) return ctx.out.note('Nothing removed.')
      await ctx.client.call('DELETE', `/consumers/${seg(name)}`)
      await syncUnlessSkipped(ctx, options)
      if (ctx.out.json) return ctx.out.writeJson({ consumer: name, deleted: true })
      ctx.out.write(`Consumer ${name} removed, with its JWT credentials.`)
    })
}
