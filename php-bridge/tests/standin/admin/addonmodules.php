<?php

/**
 * STAND-IN for WHMCS's admin area page of an addon (`admin/addonmodules.php?module=NAME`),
 * for tests only: the admin is taken as logged in; as WHMCS does, the page gives the
 * session a CSRF token and puts it into every POST form of the addon's output as a
 * `token` field, then wraps the output in the admin area's page.
 */

declare(strict_types=1);

require __DIR__ . '/../init.php';

session_start();
$_SESSION['standin_token'] ??= bin2hex(random_bytes(16));
$module = (string) ($_GET['module'] ?? '');
if (preg_match('/\A[a-z0-9_]+\z/', $module) !== 1 || !is_file(ROOTDIR . "/modules/addons/$module/$module.php")) {
    http_response_code(404);
    exit('No such addon module.');
}
require ROOTDIR . "/modules/addons/$module/$module.php";
ob_start();
("{$module}_output")(['modulelink' => "addonmodules.php?module=$module"]);
$output = (string) ob_get_clean();
$token = '<input type="hidden" name="token" value="' . htmlspecialchars($_SESSION['standin_token']) . '">';
$output = (string) preg_replace('/<form\b[^>]*method="post"[^>]*>/i', '$0' . $token, $output);
echo "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" . htmlspecialchars($module)
    . " - Addons - WHMCS (stand-in)</title></head>\n<body style=\"font-family:sans-serif;margin:2em\">"
    . '<p style="color:#888">WHMCS admin area (stand-in) &gt; Addons &gt; ' . htmlspecialchars($module) . "</p>\n"
    . $output . "\n</body></html>\n";
