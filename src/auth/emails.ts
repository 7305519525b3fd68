import { escapeHtml } from '../lib/html.js'
import type { Email } from '../lib/mailer.js'

export function passwordResetEmail(options: {
  to: string
  name: string
  link: string
  minutes: number
}): Email {
  const { name, link, minutes } = options
  return {
    to: options.to,
    subject: 'Reset your Mini-CRM password',
    text: [
      `Hello ${name},`,
      '',
      'Someone (hopefully you) asked to reset the password of your Mini-CRM account. Choose a new one here:',
      link,
      '',
      `The link works once and expires in ${minutes} minutes. Resetting signs you out everywhere.`,
      'If you did not ask for it, ignore this email: your password stays as it is.',
    ].join('\n'),
    html: [
      `<p>Hello ${escapeHtml(name)},</p>`,
      '<p>Someone (hopefully you) asked to reset the password of your Mini-CRM account.</p>',
      `<p><a href="${escapeHtml(link)}">Choose a new password</a></p>`,
      `<p>Or open this link: ${escapeHtml(link)}</p>`,
      `<p>The link works once and expires in ${minutes} minutes. Resetting signs you out everywhere.</p>`,
      '<p>If you did not ask for it, ignore this email: your password stays as it is.</p>',
    ].join(''),
  }
}
