"""engagement's APIs: `videos` (like, share, view, a video's stats), `activity` (好友动态),
`groups` (社群) and `comments` (评论)."""
