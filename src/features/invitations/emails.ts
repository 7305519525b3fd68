import { escapeHtml } from '../../lib/html.js'
import type { Email } from '../../lib/mailer.js'

export function invitationEmail(options: {
  to: string
  organizationName: string
  inviterName: string
  role: string
  link: string
  expiresAt: Date
}): Email {
  const { organizationName, inviterName, role, link } = options
  const expires = options.expiresAt.toISOString().replace('T', ' ').slice(0, 16)
  return {
    to: options.to,
    subject: `${inviterName} invited you to ${organizationName} on Mini-CRM`,
    text: [
      `${inviterName} invited you to join ${organizationName} on Mini-CRM as ${role}.`,
      '',
      'Accept the invitation (sign up first if you have no account with this email):',
      link,
      '',
      `The link works once and expires on ${expires} UTC. If you did not expect it, ignore this email.`,
    ].join('\n'),
    html: [
      `<p>${escapeHtml(inviterName)} invited you to join <strong>${escapeHtml(organizationName)}</strong> on`,
      ` Mini-CRM as ${escapeHtml(role)}.</p>`,
      `<p><a href="${escapeHtml(link)}">Accept the invitation</a></p>`,
      `<p>Or open this link: ${escapeHtml(link)}</p>`,
      `<p>The link works once and expires on ${expires} UTC. If you did not expect it, ignore this email.</p>`,
    ].join(''),
  }
}
