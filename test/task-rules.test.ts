import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assertDueDateAllowed, type TaskFields, taskChanges } from '../src/features/tasks/rules.js'
import { addDays, todayUtc } from '../src/lib/dates.js'
import { AppError } from '../src/lib/errors.js'

function rejectsDueDate(fn: () => unknown) {
  assert.throws(fn, (error: unknown) => error instanceof AppError && error.code === 'INVALID_DUE_DATE')
}

describe('todayUtc / addDays', () => {
  it('takes the UTC calendar day, whatever the local offset of the instant', () => {
    assert.equal(todayUtc(new Date('2026-03-01T23:59:59.999Z')), '2026-03-01')
    assert.equal(todayUtc(new Date('2026-03-01T23:30:00-02:00')), '2026-03-02')
    assert.equal(todayUtc(new Date('2026-03-02T00:00:00.000+01:00')), '2026-03-01')
  })
  it('defaults to the current instant', () => {
    assert.equal(todayUtc(), new Date().toISOString().slice(0, 10))
  })
  it('moves across month, year and leap-day boundaries', () => {
    assert.equal(addDays('2026-03-01', -1), '2026-02-28')
    assert.equal(addDays('2024-03-01', -1), '2024-02-29')
    assert.equal(addDays('2025-12-31', 1), '2026-01-01')
    assert.equal(addDays('2026-01-01', -1), '2025-12-31')
    assert.equal(addDays('2026-05-10', 0), '2026-05-10')
    assert.equal(addDays('2026-05-10', 30), '2026-06-09')
  })
})

describe('assertDueDateAllowed', () => {
  const today = '2026-05-10'
  it('allows today and later', () => {
    assert.doesNotThrow(() => assertDueDateAllowed(today, today))
    assert.doesNotThrow(() => assertDueDateAllowed('2026-05-11', today))
    assert.doesNotThrow(() => assertDueDateAllowed('9999-12-31', today))
  })
  it('refuses any day before today with 400 INVALID_DUE_DATE naming the field', () => {
    for (const past of ['2026-05-09', '2026-04-30', '2025-12-31', '0001-01-01']) {
      rejectsDueDate(() => assertDueDateAllowed(past, today))
    }
    assert.throws(
      () => assertDueDateAllowed('2026-05-09', today),
      (error: unknown) =>
        error instanceof AppError &&
        error.status === 400 &&
        error.errors?.length === 1 &&
        error.errors[0]?.field === 'body.due_date',
    )
  })
})

describe('taskChanges', () => {
  const today = '2026-05-10'
  const open: TaskFields = { title: 'Call', description: null, dueDate: '2026-05-20', isDone: false }

  it('is empty for an empty patch and for a patch that repeats every value', () => {
    assert.deepEqual(taskChanges(open, {}, today), { changes: {}, completed: false })
    assert.deepEqual(
      taskChanges(open, { title: 'Call', description: null, due_date: '2026-05-20', is_done: false }, today),
      { changes: {}, completed: false },
    )
  })

  it('keeps only the fields that differ', () => {
    assert.deepEqual(taskChanges(open, { title: 'Call back', description: null }, today), {
      changes: { title: 'Call back' },
      completed: false,
    })
    assert.deepEqual(taskChanges(open, { description: 'ask for budget' }, today).changes, {
      description: 'ask for budget',
    })
  })

  it('clears nullable fields with null', () => {
    const full: TaskFields = { ...open, description: 'x' }
    assert.deepEqual(taskChanges(full, { description: null, due_date: null }, today).changes, {
      description: null,
      dueDate: null,
    })
  })

  it('checks a changed due date against today: past refused, today allowed', () => {
    rejectsDueDate(() => taskChanges(open, { due_date: '2026-05-09' }, today))
    assert.deepEqual(taskChanges(open, { due_date: today }, today).changes, { dueDate: today })
  })

  it('accepts an unchanged past due date re-sent with other fields', () => {
    const overdue: TaskFields = { ...open, dueDate: '2026-05-01' }
    assert.deepEqual(taskChanges(overdue, { title: 'Call now', due_date: '2026-05-01' }, today).changes, {
      title: 'Call now',
    })
  })

  it('refuses moving an overdue task to another past date', () => {
    const overdue: TaskFields = { ...open, dueDate: '2026-05-01' }
    rejectsDueDate(() => taskChanges(overdue, { due_date: '2026-05-02' }, today))
  })

  it('reports completion only for open → done', () => {
    assert.deepEqual(taskChanges(open, { is_done: true }, today), {
      changes: { isDone: true },
      completed: true,
    })
    const done: TaskFields = { ...open, isDone: true }
    assert.deepEqual(taskChanges(done, { is_done: true }, today), { changes: {}, completed: false })
    assert.deepEqual(taskChanges(done, { is_done: false }, today), {
      changes: { isDone: false },
      completed: false,
    })
  })
})
