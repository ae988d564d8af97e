/**
 * Subrequests of one sync step, counted: every `fetch` (IAM, serverless, JWKS), every
 * KV operation and every call to the key-set owner. A step plans its work from what
 * is left of its budget, so that it stays within one invocation's subrequest limit
 * (docs/scale.md), and reports what it used.
 */

/** A step tried to go past its budget: a planning bug, never an expected outcome. */
export class SubrequestBudgetError extends Error {
  override readonly name = 'SubrequestBudgetError'
}

/** Counts one step's subrequests against its budget. */
export class SubrequestMeter {
  #used = 0
  /** KV operations the owner made on this step's behalf (its own invocation's subrequests). */
  ownerKvOps = 0
  /** KV writes (puts and deletes) made for this step, by the step itself or by the owner on its behalf. */
  kvWrites = 0

  /** @param budget Most subrequests the step may make. */
  constructor(readonly budget: number) {
    if (!Number.isInteger(budget) || budget < 20) throw new TypeError(`SubrequestMeter: the budget must be an integer of at least 20, got ${budget}`)
  }

  /** Subrequests made so far. */
  get used(): number {
    return this.#used
  }

  /** Subrequests left. */
  get remaining(): number {
    return this.budget - this.#used
  }

  /**
   * Counts `n` subrequests about to be made.
   * @throws {SubrequestBudgetError} when they would exceed the budget.
   */
  charge(n = 1): void {
    if (this.#used + n > this.budget) throw new SubrequestBudgetError(`a sync step would make more than ${this.budget} subrequests`)
    this.#used += n
  }

  /** A `fetch` that counts each request. */
  fetch(inner: typeof fetch = (input, init) => fetch(input, init)): typeof fetch {
    return (input, init) => {
      this.charge()
      return inner(input, init)
    }
  }

  /** A KV binding whose every operation counts. */
  kv<K extends object>(inner: K): K {
    return new Proxy(inner, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver)
        if (typeof value !== 'function' || !['get', 'put', 'delete', 'list', 'getWithMetadata'].includes(String(property))) return value
        return (...args: unknown[]) => {
          this.charge()
          if (property === 'put' || property === 'delete') this.kvWrites++
          return Reflect.apply(value as (...a: unknown[]) => unknown, target, args)
        }
      },
    })
  }
}
