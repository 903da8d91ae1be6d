<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

use Opsync\Openprovider\ApiError;
use Opsync\Openprovider\Client;
use Opsync\Openprovider\ClientConfig;
use Opsync\Openprovider\RetryPolicy;
use PHPUnit\Framework\TestCase;

/**
 * The drop-in's Openprovider client against the real sandbox and its faults: the native
 * client's behaviour (tests/tests/openprovider_client.rs), call for call.
 */
final class ClientTest extends TestCase
{
    private Sandbox $sandbox;
    /** @var list<array{string, string, string, list<string>}> what went to the module log */
    private array $logged = [];
    private string $cache;

    protected function setUp(): void
    {
        $domains = [];
        for ($i = 1; $i <= 1200; $i++) {
            $domains[] = ['id' => $i, 'domain' => ['name' => sprintf('domain-%06d', $i), 'extension' => 'com'],
                'status' => 'ACT', 'autorenew' => 'default', 'is_private_whois_enabled' => false,
                'is_private_whois_allowed' => $i !== 3, 'is_deleted' => false];
        }
        $domains[1]['status'] = 'PEN';
        $this->sandbox = new Sandbox($domains);
        $this->cache = sys_get_temp_dir() . '/opsync-client-test-' . getmypid() . '/token.json';
        @unlink($this->cache);
    }

    protected function tearDown(): void
    {
        $this->sandbox->stop();
        @unlink($this->cache);
        @rmdir(\dirname($this->cache));
    }

    private function client(?string $password = null, ?string $cache = null): Client
    {
        return new Client(
            new ClientConfig(
                $this->sandbox->baseUrl,
                $this->sandbox->username,
                $password ?? $this->sandbox->password,
                $cache,
                retry: new RetryPolicy(4, 0.01, 0.05, 5.0),
            ),
            function (string $action, string $request, string $response, array $secrets): void {
                $this->logged[] = [$action, $request, $response, $secrets];
            }
        );
    }

    /** @return array{int, int} list calls and logins */
    private function seen(): array
    {
        $c = $this->sandbox->counters();
        return [$c['list'], $c['login']];
    }

    public function testTheListingComesInPagesOfFiveHundredWithOneLogin(): void
    {
        $listing = $this->client()->listAll();
        self::assertTrue($listing->complete, implode('; ', $listing->problems));
        self::assertCount(1200, $listing->domains);
        self::assertSame(range(1, 1200), array_column($listing->domains, 'id'));
        self::assertSame([3, 1], $this->seen());
    }

    public function testAnExpiredTokenIsRenewedOnceAndTheCallRetriedOnce(): void
    {
        $client = $this->client();
        $client->listAll();
        $this->sandbox->faults(['expire_token_after' => 3]);
        $listing = $client->listAll();
        self::assertTrue($listing->complete);
        self::assertSame(2, $this->sandbox->counters()['login'], 'pages in flight share one new login');
    }

    public function testTransientFailuresAreRetriedAndBusinessErrorsNeverAre(): void
    {
        $client = $this->client();
        $client->listAll();
        $this->sandbox->faults(['fail_next' => 2, 'fail_bare_502' => true]);
        [$ok] = $client->updateMany([['id' => 1, 'body' => ['autorenew' => 'off']]]);
        self::assertSame(['id' => 1, 'status' => 'ACT'], $ok);
        self::assertSame(3, $this->sandbox->counters()['update'], 'two bare 502s, then the update');

        $this->sandbox->faults(['fail_next' => 1]);
        [$refused] = $client->updateMany([['id' => 1, 'body' => ['autorenew' => 'default']]]);
        self::assertInstanceOf(ApiError::class, $refused);
        self::assertSame(399, $refused->apiCode());
        self::assertSame(4, $this->sandbox->counters()['update'], 'HTTP 500 with a business code is not retried');
    }

    public function testOpenprovidersRefusalsComeBackByCodeInTheNativeWords(): void
    {
        $results = $this->client()->updateMany([
            ['id' => 1, 'body' => ['autorenew' => 'sometimes']],
            ['id' => 2, 'body' => ['autorenew' => 'off']],
            ['id' => 3, 'body' => ['is_private_whois_enabled' => true]],
            ['id' => 99999, 'body' => ['autorenew' => 'off']],
            ['id' => 4, 'body' => ['autorenew' => 'off']],
        ]);
        $codes = array_map(static fn ($r) => $r instanceof ApiError ? $r->apiCode() : 0, $results);
        self::assertSame([347, 366, 19006, 320, 0], $codes);
        self::assertSame('Openprovider refused the request (code 366: Action is prohibited for current domain status)', $results[1]->getMessage());
    }

    public function testMaintenanceIsRetriedThenGivenUpWithTheNativeMessage(): void
    {
        $this->sandbox->faults(['maintenance' => true]);
        try {
            $this->client()->listAll();
            self::fail('a listing during maintenance succeeded');
        } catch (ApiError $e) {
            self::assertSame(ApiError::UNAVAILABLE, $e->kind);
            self::assertSame('Openprovider could not be reached (4 attempts; last: maintenance (4005: Openprovider is in maintenance))', $e->getMessage());
        }
    }

    public function testABlockStopsEveryCallAtOnce(): void
    {
        $client = $this->client();
        $client->listAll();
        $this->sandbox->faults(['block_after_identical' => 0]);
        try {
            $client->listAll();
            self::fail('a blocked listing succeeded');
        } catch (ApiError $e) {
            self::assertSame(ApiError::BLOCKED, $e->kind);
        }
        $afterBlock = $this->sandbox->counters()['total'];
        $updates = $client->updateMany(array_map(static fn (int $id) => ['id' => $id, 'body' => ['autorenew' => 'off']], range(1, 20)));
        foreach ($updates as $u) {
            self::assertInstanceOf(ApiError::class, $u);
            self::assertSame(ApiError::BLOCKED, $u->kind);
        }
        self::assertSame($afterBlock, $this->sandbox->counters()['total'], 'no call after the block');
    }

    public function testAWrongPasswordIsOneLoginAndAClearErrorWithoutThePassword(): void
    {
        try {
            $this->client('not-the-password')->listAll();
            self::fail('a wrong password listed');
        } catch (ApiError $e) {
            self::assertSame('Openprovider rejected the username or password (code 196)', $e->getMessage());
        }
        self::assertSame(1, $this->sandbox->counters()['login'], 'a failed login is not retried');
    }

    public function testTheTokenIsCachedPrivatelyAndReused(): void
    {
        $this->client(null, $this->cache)->listAll();
        self::assertSame(0600, fileperms($this->cache) & 0777);
        $this->client(null, $this->cache)->listAll();
        self::assertSame(1, $this->sandbox->counters()['login'], 'the second client reused the cached token');
    }

    public function testLookupsByNameGoAHundredAtATimeAndSayWhatIsMissing(): void
    {
        $names = array_map(static fn (int $i) => sprintf('domain-%06d.com', $i), range(1, 150));
        $names[] = 'not-there.com';
        $found = $this->client()->lookup($names);
        self::assertCount(150, $found['domains']);
        self::assertSame([['domain' => 'not-there.com', 'kind' => 'not_found', 'message' => 'Openprovider does not list this domain in the account']], $found['errors']);
        self::assertSame(2, $this->sandbox->counters()['list']);
    }

    public function testEveryCallIsLoggedAndTheSecretsAreNamedForMasking(): void
    {
        $client = $this->client();
        $client->listAll();
        $client->updateMany([['id' => 1, 'body' => ['autorenew' => 'off']]]);
        self::assertSame(['POST /auth/login', 'GET /domains', 'GET /domains', 'GET /domains', 'PUT /domains/1'], array_column($this->logged, 0));
        $token = null;
        foreach ($this->logged as [$action, $request, $response, $secrets]) {
            self::assertContains($this->sandbox->password, $secrets, "$action: the password is masked");
            if ($action === 'POST /auth/login') {
                $token = json_decode($response, true)['data']['token'];
            } else {
                self::assertContains($token, $secrets, "$action: the token is masked");
            }
            $masked = str_replace($secrets, '***', $request . $response);
            self::assertStringNotContainsString($this->sandbox->password, $masked);
            self::assertStringNotContainsString((string) $token, $masked);
        }
        self::assertStringContainsString('limit=500&offset=500&order_by.id=asc', $this->logged[2][1] . $this->logged[3][1]);
    }

    public function testEveryCallSendsTheKeysOpenprovidersOwnClientSends(): void
    {
        $client = $this->client();
        $client->listAll();
        $found = $client->lookup(['domain-000001.com', 'domain-000004.com']);
        self::assertCount(2, $found['domains']);
        self::assertSame([], $found['errors']);
        $client->updateMany([['id' => 1, 'body' => ['autorenew' => 'on', 'is_private_whois_enabled' => true]]]);

        $seen = $this->sandbox->seenKeys();
        // The keys of DOMAIN.md's list that the client uses: arrays as the key repeated.
        self::assertSame(['domain_names', 'limit', 'offset', 'order_by.id'], $seen['GET /domains']);
        self::assertSame(['ip', 'password', 'username'], $seen['POST /auth/login']);
        self::assertSame(['autorenew', 'is_private_whois_enabled'], $seen['PUT /domains/{id} body']);
        self::assertSame([], $seen['PUT /domains/{id}']);
        $lookups = array_values(array_filter($this->logged, static fn (array $l): bool => str_contains($l[1], 'domain_names')));
        self::assertStringContainsString('domain_names=domain-000001.com&domain_names=domain-000004.com', $lookups[0][1]);
    }
}
