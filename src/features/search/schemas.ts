import { Type } from 'typebox'
import { StringEnum, Uuid } from '../../lib/schemas.js'

export const SEARCH_TYPES = ['contacts', 'companies', 'deals'] as const

export const SearchQuery = Type.Object(
  {
    q: Type.String({
      minLength: 2,
      maxLength: 100,
      description: 'Case-insensitive substring; % and _ are literal',
    }),
    types: Type.Optional(
      Type.String({
        pattern: '^[a-z]+(,[a-z]+)*$',
        maxLength: 100,
        description: `Comma-separated subset of ${SEARCH_TYPES.join(', ')} (default all)`,
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
  },
  { additionalProperties: false },
)

export const SearchHit = Type.Object({
  type: StringEnum(['contact', 'company', 'deal']),
  id: Uuid,
  title: Type.String(),
  subtitle: Type.Union([Type.String(), Type.Null()]),
})

export const SearchResult = Type.Object({ items: Type.Array(SearchHit) })
