<?php
// Served by php-fpm through gopaste (site.ini). Try /?name=you.
$name = $_GET['name'] ?? 'world';
header('Content-Type: text/html; charset=utf-8');
?><!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hello from PHP</title>
<link rel="stylesheet" href="/assets/style.css">
</head>
<body>
<main>
<h1>Hello, <?= htmlspecialchars($name, ENT_QUOTES) ?>!</h1>
<p>PHP <?= PHP_VERSION ?> (<?= PHP_SAPI ?>) ran
<code><?= htmlspecialchars($_SERVER['SCRIPT_NAME'], ENT_QUOTES) ?></code>
for <code><?= htmlspecialchars($_SERVER['REQUEST_URI'], ENT_QUOTES) ?></code>.</p>
<p><a href="/hello.php/a/b">hello.php/a/b</a></p>
</main>
</body>
</html>
