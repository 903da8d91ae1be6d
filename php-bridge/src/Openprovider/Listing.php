<?php

declare(strict_types=1);

namespace Opsync\Openprovider;

/**
 * Every domain of the account as the bulk listing found it, and whether the pages made one
 * consistent listing. Only a complete listing lets the engine say a domain is not in the
 * account. The same judgement as the native client's (`host-runner/src/openprovider/listing.rs`).
 */
final class Listing
{
    /**
     * @param list<array<string, mixed>> $domains
     * @param list<string> $problems why the listing is not complete
     */
    public function __construct(
        public readonly array $domains,
        public readonly bool $complete,
        public readonly array $problems,
    ) {
    }

    /**
     * Whether `$pages` (of `$pageSize`, the first reporting `$total`) make one consistent
     * listing: every page reports the same total, every page but the last is full and the
     * last holds the rest, no domain comes twice or without an id. The domains are kept in
     * offset order, each id once, whatever the verdict.
     *
     * @param list<array{offset: int, domains: list<array<string, mixed>>, total: int}> $pages
     */
    public static function judge(int $pageSize, int $total, array $pages): self
    {
        usort($pages, static fn (array $a, array $b): int => $a['offset'] <=> $b['offset']);
        $problems = [];
        $seen = [];
        $domains = [];
        foreach ($pages as $page) {
            $offset = $page['offset'];
            if ($page['total'] !== $total) {
                $problems[] = "the total moved from $total to {$page['total']} while listing (page at $offset)";
            }
            $expected = min($pageSize, max(0, $total - $offset));
            $count = \count($page['domains']);
            if ($count !== $expected) {
                $problems[] = "the page at $offset held $count domains instead of $expected";
            }
            foreach ($page['domains'] as $domain) {
                $id = $domain['id'] ?? null;
                if (!\is_int($id) || $id < 0 || isset($seen[$id])) {
                    $shown = $id === null ? 'null' : json_encode($id);
                    $problems[] = "domain id $shown was listed twice or has no id";
                    continue;
                }
                $seen[$id] = true;
                $domains[] = $domain;
            }
        }
        if (\count($domains) !== $total && $problems === []) {
            $problems[] = 'listed ' . \count($domains) . " domains of $total";
        }
        return new self($domains, $problems === [], $problems);
    }
}
